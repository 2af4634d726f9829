// bin/run-bundle.js: a CommonJS bundle runs as node would require it (exports, require, __filename), its code cache
// is written on a run that had none, used (not rewritten) by the next, and a changed bundle gets a cache of its own;
// bin/convergit.js runs serve, validate and plan from it (their code cached), the short commands from the split bundle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const RUNNER = new URL('../../bin/run-bundle.js', import.meta.url).href;

let dir: string, cache: string, bundle: string;
test.before.each(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-run-bundle-'));
  cache = path.join(dir, 'cache');
  bundle = path.join(dir, 'bundle.cjs');
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle that, like convergit's commands (src/cli/code-cache.ts), asks for its cache at exit once it works; unless `quick` (a --help). */
const write = (answer: string, quick = false) => writeFileSync(bundle, `const { basename } = require('node:path');
function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
${quick ? '' : "globalThis[Symbol.for('convergit.saveCodeCacheAtExit')]?.();"}
console.log(JSON.stringify({ answer: ${answer}, file: basename(__filename), argv: process.argv.slice(2), sum: work(10), exported: typeof module.exports, cache: globalThis[Symbol.for('convergit.codeCacheState')] }));
`);
const run = async (env: NodeJS.ProcessEnv = { CONVERGIT_CODE_CACHE: cache }, shipped?: string) => {
  // As bin/convergit.js runs it: process.argv is [node, the launcher, command, …].
  const launcher = path.join(dir, 'launch.mjs');
  writeFileSync(launcher, `import { runBundle } from '${RUNNER}';\nrunBundle(${JSON.stringify(bundle)}, ${JSON.stringify({ shipped })});\n`);
  const r = await promisify(execFile)(process.execPath, [launcher, 'serve', '--x'], { env: { ...process.env, ...env } });
  return JSON.parse(r.stdout);
};
const files = () => (existsSync(cache) ? readdirSync(cache).sort() : []);

test('runs the bundle as a CommonJS module, with the command line after it', async () => {
  write('42');
  assert.equal(await run(), { answer: 42, file: 'bundle.cjs', argv: ['serve', '--x'], sum: 45, exported: 'object', cache: 'none' });
});

test('the first run writes the cache; the next uses it and does not write it again', async () => {
  write('1');
  await run();
  assert.equal(files().length, 1);
  assert.match(files()[0], /^[0-9a-f]{16}-serve\.bin$/);
  const first = statSync(path.join(cache, files()[0]));
  assert.ok(first.size > 0);
  assert.equal(await run().then((r) => [r.answer, r.cache]), [1, 'used']);
  const second = statSync(path.join(cache, files()[0]));
  assert.is(second.ino, first.ino, 'a cache V8 accepted is not replaced');
});

/** bin/run-bundle.js's shippedName for `file`'s text, as a plain `node` run (no flags of its own, as bin's) names it. */
async function shippedNameOf(file: string, command: string): Promise<string> {
  const script = path.join(dir, 'name.mjs');
  writeFileSync(script, `import { readFileSync } from 'node:fs';\nimport { shippedName } from '${RUNNER}';\nconsole.log(shippedName(readFileSync(${JSON.stringify(file)}, 'utf8'), ${JSON.stringify(command)}));\n`);
  return (await promisify(execFile)(process.execPath, [script])).stdout.trim();
}

test('where the user\'s folder has none, the cache shipped beside the bundle is used (named by its text), and the user\'s written', async () => {
  write('5');
  const shipped = path.join(dir, 'shipped');
  // The build's cache as scripts/train-code-cache.mjs makes it: a run with its folder as the user's, then named by
  // the bundle's text, so that a copy of the bundle elsewhere (another folder, times, inode) finds it too.
  await run({ CONVERGIT_CODE_CACHE: shipped });
  const name = await shippedNameOf(bundle, 'serve');
  renameSync(path.join(shipped, readdirSync(shipped)[0]), path.join(shipped, name));
  const copy = path.join(dir, 'elsewhere.cjs');
  copyFileSync(bundle, copy);
  rmSync(bundle);
  renameSync(copy, bundle); // another inode, another time: the user's cache name changes, the shipped one not
  assert.equal(await run(undefined, shipped).then((r) => [r.answer, r.cache]), [5, 'used (shipped)']);
  assert.is(files().length, 1, 'the run writes the user\'s own cache, of what it ran');
  assert.equal((await run(undefined, shipped)).cache, 'used', 'from then on the user\'s');
  // Off (CONVERGIT_CODE_CACHE empty): not read either.
  assert.equal((await run({ CONVERGIT_CODE_CACHE: '' }, shipped)).cache, 'off');
  // One V8 refuses (damaged, or made under other flags) costs the run its compile, and the user's is written.
  writeFileSync(path.join(shipped, name), 'not a cache');
  rmSync(cache, { recursive: true });
  assert.equal(await run(undefined, shipped).then((r) => [r.answer, r.cache]), [5, 'refused (shipped)']);
  assert.is(files().length, 1);
  // One of another version of the bundle is not read: its name is another's.
  write('6');
  rmSync(cache, { recursive: true });
  assert.equal(await run(undefined, shipped).then((r) => [r.answer, r.cache]), [6, 'none']);
});

test('a changed bundle runs its own code and gets a cache of its own', async () => {
  write('1');
  await run();
  write('22');
  assert.equal((await run()).answer, 22);
  assert.is(files().length, 2);
});

test('a run that never got to its work (a --help, a typo) writes no cache', async () => {
  write('4', true);
  assert.equal((await run()).answer, 4);
  assert.equal(files(), []);
  write('4');
  await run();
  assert.is(files().length, 1, 'the next run that works writes it');
});

test('CONVERGIT_CODE_CACHE empty: no cache is written', async () => {
  write('3');
  assert.equal((await run({ CONVERGIT_CODE_CACHE: '', XDG_CACHE_HOME: cache })).answer, 3);
  assert.throws(() => readdirSync(cache));
});

test("a cache written after many full collections still holds the start's code (bytecode is kept until it is written)", async () => {
  // 300 functions, each run once as the bundle loads, as a module's top-level code is; then, at exit before the
  // cache is written, full collections that flush what may be flushed (V8 flushes the bytecode of a function not run
  // in its last 5 collections; a forced one ages nothing, so --stress-flush-code stands for a long start's many).
  const fns = Array.from({ length: 300 }, (_, i) => `function f${i}(x) { const o = { a: x, b: [x, ${i}] }; return o.b.length + o.a * ${i}; }\nf${i}(${i});`).join('\n');
  writeFileSync(bundle, `${fns}
if (process.env.GC_BEFORE_EXIT) process.on('exit', () => { for (let i = 0; i < 3; i++) globalThis.gc(); });
globalThis[Symbol.for('convergit.saveCodeCacheAtExit')]?.();
console.log('{}');
`);
  const launcher = path.join(dir, 'launch.mjs');
  writeFileSync(launcher, `import { runBundle } from '${RUNNER}';\nrunBundle(${JSON.stringify(bundle)});\n`);
  const sizeAfter = async (env: NodeJS.ProcessEnv) => {
    const codeCache = mkdtempSync(path.join(dir, 'code-'));
    await promisify(execFile)(process.execPath, ['--expose-gc', '--stress-flush-code', launcher, 'plan'], { env: { ...process.env, ...env, CONVERGIT_CODE_CACHE: codeCache } });
    const [file] = readdirSync(codeCache);
    return statSync(path.join(codeCache, file)).size;
  };
  const quiet = await sizeAfter({}), collected = await sizeAfter({ GC_BEFORE_EXIT: '1' });
  assert.ok(collected >= quiet * 0.9, `written after the collections ${collected} bytes, without them ${quiet}`);
});

const ROOT = new URL('../../', import.meta.url);
/** bin/convergit.js's own test: the one-file bundle is at least as new as every source (a build after the last edit). */
function bundleFresh(): boolean {
  const mtime = (u: URL) => { try { return statSync(u).mtimeMs; } catch { return -1; } };
  const built = mtime(new URL('build/bundle/serve.cjs', ROOT));
  return built >= 0 && !process.env.CONVERGIT_NO_BUILD
    && readdirSync(new URL('src/', ROOT), { recursive: true }).every((f) => mtime(new URL(`src/${f}`, ROOT)) <= built);
}

test('bin: validate and plan run from the cached bundle, --version from the split one', async () => {
  if (!bundleFresh()) return console.log('  (build/bundle/serve.cjs missing or older than src/: bin runs build/ or src/; skipped)');
  const repo = makeRepo({ 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n' });
  try {
    const bin = new URL('bin/convergit.js', ROOT).pathname;
    const env = { ...process.env, CONVERGIT_CODE_CACHE: cache, XDG_CACHE_HOME: path.join(dir, 'home-cache') };
    const cli = async (...args: string[]) => {
      const r = await promisify(execFile)(process.execPath, [bin, ...args], { env });
      return r.stdout + r.stderr;
    };
    await cli('validate', '--help');
    assert.equal(files(), [], 'a --help does not get to the work: no cache');
    assert.match(await cli('validate', '--repo', repo.dir, '--path', 'deploy'), /1 object\(s\) in 1 file\(s\): 0 error/);
    assert.match(await cli('plan', '--repo', repo.dir, '--path', 'deploy', '--ref', 'main'), /Valid/);
    await cli('--version');
    assert.equal(files().map((f) => f.replace(/^[0-9a-f]{16}-/, '')), ['plan.bin', 'validate.bin']);
    // npm install's own (scripts/train-code-cache.mjs; a notice at install if it failed), named as these runs look for it.
    const shipped = new URL('build/code-cache/', ROOT);
    assert.ok(existsSync(shipped), 'build/code-cache/ was trained by npm install');
    const serveCjs = new URL('build/bundle/serve.cjs', ROOT).pathname;
    assert.equal(readdirSync(shipped).sort(), [await shippedNameOf(serveCjs, 'plan'), await shippedNameOf(serveCjs, 'serve'), await shippedNameOf(serveCjs, 'validate')]);
  } finally {
    repo.cleanup();
  }
});

test("bin: the install's training serve (CONVERGIT_INTERNAL_TRAIN_CODE_CACHE) exits after its first sync, no engine started, its cache written", async () => {
  if (!bundleFresh()) return console.log('  (build/bundle/serve.cjs missing or older than src/: bin runs build/ or src/; skipped)');
  const repo = makeRepo({ 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n' });
  try {
    const bin = new URL('bin/convergit.js', ROOT).pathname;
    const r = await promisify(execFile)(process.execPath, [bin, 'serve', '--repo', repo.dir, '--path', 'deploy', '--data-dir', path.join(dir, 'data'), '--port', '0', '--nodes', '0'],
      { env: { ...process.env, CONVERGIT_CODE_CACHE: cache, CONVERGIT_INTERNAL_TRAIN_CODE_CACHE: '1' }, timeout: 60_000 });
    const out = r.stdout + r.stderr;
    assert.match(out, /Synced: applied revision[\s\S]*exiting after the first sync \(synced\)/);
    assert.not.match(out, /runtime:|addresses:|serving http/, 'no engine: no runtime chosen, no addresses taken');
    assert.equal(files().map((f) => f.replace(/^[0-9a-f]{16}-/, '')), ['serve.bin']);
  } finally {
    repo.cleanup();
  }
});

test('bin: serve writes its cache while its heap hold has changed V8\'s flags, and the next serve uses it', async () => {
  if (!bundleFresh()) return console.log('  (build/bundle/serve.cjs missing or older than src/: bin runs build/ or src/; skipped)');
  // V8 refuses a cache made under flags that hash otherwise than at its load (src/cli/v8-flags.ts): every serve's
  // was refused and written again.
  const repo = makeRepo({ 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n' });
  const env = { ...process.env, CONVERGIT_CODE_CACHE: cache };
  const serveOnce = async () => {
    const data = mkdtempSync(path.join(dir, 'data-'));
    const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', data], { env });
    try {
      await until(() => /started in/.test(serve.output()), 'serve\'s start line');
      await until(() => files().length === 1, 'the cache written', 30_000);
      return /code cache (\w+(?: \(shipped\))?)/.exec(serve.output())?.[1];
    } finally {
      await serve.shutdown();
    }
  };
  try {
    assert.is(await serveOnce(), 'used (shipped)', "the first serve has only npm install's, and writes its own");
    assert.is(await serveOnce(), 'used', 'the next serve uses it');
  } finally {
    repo.cleanup();
  }
});

test('bin: a serve stopped before its quiet second writes its cache at exit under the load\'s flags, and the next serve uses it', async () => {
  if (!bundleFresh()) return console.log('  (build/bundle/serve.cjs missing or older than src/: bin runs build/ or src/; skipped)');
  // serve's own write waits 3 s and a quiet second; stopped sooner, the cache is written as it exits, when its heap
  // hold and its inlining budget have changed V8's flags since the load: written under those, the next start refused it.
  const repo = makeRepo({ 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n' });
  const own = mkdtempSync(path.join(dir, 'exit-cache-'));
  const written = () => readdirSync(own).filter((f) => f.endsWith('.bin'));
  const serveOnce = async (stopAtOnce: boolean) => {
    const data = mkdtempSync(path.join(dir, 'data-'));
    const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', data], { env: { ...process.env, CONVERGIT_CODE_CACHE: own } });
    try {
      await until(() => /started in/.test(serve.output()), 'serve\'s start line');
      if (stopAtOnce) {
        assert.equal(written(), [], 'not written yet: its own write waits 3 s');
        await serve.stop('SIGTERM');
      }
      return /code cache (\w+(?: \(shipped\))?)/.exec(serve.output())?.[1];
    } finally {
      await serve.shutdown();
    }
  };
  try {
    assert.is(await serveOnce(true), 'used (shipped)');
    assert.is(written().length, 1, 'written as it exited');
    assert.is(await serveOnce(false), 'used', 'the next serve uses it');
  } finally {
    repo.cleanup();
  }
});

test.run();
