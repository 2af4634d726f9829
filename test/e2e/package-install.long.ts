// A production install: `npm pack` (its prepare compiles build/), then the tarball installed with --omit=dev into
// a fresh folder (offline, from npm's cache: the dependencies are pinned by this repository's lockfile, as a user's
// lockfile would pin them), and the installed `convergit` run: --version, and validate on a repository, through
// build/ and through tsx. (prepare without TypeScript, as `npm ci --omit=dev` in a clone: test/cli/prepare.test.ts.)
// In `npm run torture`, not `npm test`: it packs and installs (~25 s of CPU, minutes on a loaded machine).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund'], { cwd, maxBuffer: 16 << 20 });
const service = 'apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { ports: [{ port: 80 }] }\n';
let dir: string, repo: TestRepo;

test.before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-package-'));
  repo = makeRepo({ 'web.yaml': service });
});
test.after(() => {
  repo.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** An app depending on the tarball, with a lockfile naming the same runtime dependencies this repository's does. */
function appDependingOn(tarball: string): string {
  const app = path.join(dir, 'app');
  mkdirSync(app);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const spec = `file:${path.relative(app, tarball)}`;
  const root = { name: 'app', version: '1.0.0', dependencies: { convergit: spec } };
  const packages: Record<string, unknown> = { '': root };
  packages['node_modules/convergit'] = { version: pkg.version, resolved: spec, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines };
  for (const [key, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) if (key && !entry.dev) packages[key] = entry;
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ ...root, private: true }));
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
  return app;
}

test('npm pack, install the tarball with --omit=dev: convergit --version and validate work, through build/ and tsx', async () => {
  const packed = await npm(['pack', '--json', '--pack-destination', dir], ROOT);
  const [{ filename, files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  const names = (files as { path: string }[]).map((f) => f.path);
  assert.ok(names.includes('build/cli/main.js'), 'the compiled build is shipped');
  assert.ok(names.includes('src/cli/main.ts') && names.includes('schemas/implemented.json') && names.includes('examples-repo/web.yaml'));
  assert.not.ok(names.some((n) => n.startsWith('test/') || n.startsWith('node_modules/')), 'no tests in the package');

  const app = appDependingOn(path.join(dir, filename));
  await npm(['ci', '--omit=dev', '--offline'], app);
  assert.not.ok(existsSync(path.join(app, 'node_modules/typescript')), 'no dev dependency installed');
  assert.not.ok(existsSync(path.join(app, 'node_modules/uvu')));

  const bin = path.join(app, 'node_modules/.bin/convergit');
  const env = { ...process.env, CONVERGIT_VALIDATOR_CACHE: path.join(dir, 'validators') };
  const version = await run(bin, ['--version'], { env });
  assert.is(version.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  for (const extra of [{}, { CONVERGIT_NO_BUILD: '1' }]) { // build/, then the sources through tsx (a runtime dependency)
    const ok = await run(bin, ['validate', '--repo', repo.dir], { env: { ...env, ...extra } });
    assert.match(ok.stdout + ok.stderr, /1 object\(s\) in 1 file\(s\): 0 error\(s\)/, JSON.stringify(extra));
  }
  repo.write('web.yaml', service.replace('port: 80', 'port: 0'));
  repo.commit('bad port');
  const bad = await run(bin, ['validate', '--repo', repo.dir], { env }).then(() => undefined, (e) => e);
  assert.is(bad?.code, 1);
  assert.match(bad.stdout + bad.stderr, /web\.yaml:4:\d+: Service\/web: spec\.ports\[0\]\.port/);

});

test.run();
