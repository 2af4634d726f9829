// serve's default runtime: podman where it is installed and runs a container, else process, said with the reason;
// kept by the data folder so that a restart never moves running pods to another runtime, forgotten by `convergit stop`.
// The machine without podman is this one with a PATH (or a podman binary path) that lacks it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing } from '../support/podman.ts';
import { startServe } from '../support/serve-process.ts';
import { chooseRuntime, forgetRuntime } from '../../src/cli/runtime-choice.ts';

let repo: TestRepo, tmp: string, noPodmanEnv: NodeJS.ProcessEnv;
const recorded = (dataDir: string) => existsSync(join(dataDir, 'runtime.json')) ? JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')).runtime : undefined;

test.before(() => {
  repo = makeRepo({ 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n' });
  tmp = mkdtempSync(join(tmpdir(), 'convergit-runtime-choice-'));
  // Every command of this PATH but podman.
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  for (const dir of (process.env.PATH ?? '').split(':')) {
    let names: string[];
    try { names = readdirSync(dir); } catch { continue; }
    for (const n of names) if (n !== 'podman' && !existsSync(join(bin, n))) symlinkSync(join(dir, n), join(bin, n));
  }
  noPodmanEnv = { ...process.env, PATH: bin };
});

test.after(() => {
  repo?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const rejection = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.message);
const podmanOpts = (dataDir: string, bin?: string) => ({ stateDir: join(dataDir, 'podman'), ...(bin && { bin }) });
const missing = podmanMissing();

test('serve without podman on its PATH runs process and says why; `convergit stop` forgets the choice', async () => {
  const dataDir = join(tmp, 'no-podman');
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir], { defaultRuntime: true, env: noPodmanEnv });
  assert.match(serve.output(), /runtime: process \(podman not found on PATH\)/);
  assert.is(recorded(dataDir), 'process');
  await serve.shutdown();
  assert.is(recorded(dataDir), undefined);
});

test('the data folder keeps its runtime: the default does not switch, a different --runtime is refused naming both', async () => {
  const dataDir = join(tmp, 'kept');
  mkdirSync(dataDir);
  const first = await chooseRuntime(dataDir, undefined, podmanOpts(dataDir, join(tmp, 'no-such-podman')));
  assert.equal([first.name, first.reason], ['process', 'podman not found on PATH']);
  assert.match(await rejection(chooseRuntime(dataDir, 'podman', podmanOpts(dataDir))),
    new RegExp(`^--runtime podman, but the pods of ${dataDir} run on process \\(since [^)]+\\): \`convergit stop --data-dir ${dataDir}\` stops them first, or keep --runtime process$`));
  // podman (when this machine has it) does not take over the folder's pods.
  const again = await chooseRuntime(dataDir, undefined, podmanOpts(dataDir));
  assert.equal(again.name, 'process');
  assert.match(again.reason, /^the runtime of this data folder's pods since \d{4}-/);
  forgetRuntime(dataDir);
  assert.is(recorded(dataDir), undefined);
});

if (missing) console.log(`e2e runtime choice with podman: skipped, ${missing}`);
else {
  test('with a podman that runs containers serve\'s default is podman, said so', async () => {
    const dataDir = join(tmp, 'podman');
    const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--cluster-cidr', '10.206.0.0/16', '--service-cidr', '10.207.0.0/16'], { defaultRuntime: true });
    try {
      assert.match(serve.output(), /runtime: podman \(podman \d+\.\d+\.\d+, rootful; it runs containers here\)/);
      assert.is(recorded(dataDir), 'podman');
    } finally {
      await serve.shutdown();
    }
  });

  test('a fresh folder whose serve chooses podman gets podman\'s address blocks, not the process runtime\'s', async () => {
    const dataDir = join(tmp, 'podman-blocks');
    const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '0'], { defaultRuntime: true });
    try {
      assert.match(serve.output(), /runtime: podman /);
      // Loopback blocks on a podman bridge leave every pod Pending (found with `npm start` on a machine with podman).
      assert.match(serve.blocks().clusterCIDR, /^10\./, serve.output());
      assert.match(serve.blocks().serviceCIDR, /^10\./, serve.output());
    } finally {
      await serve.shutdown();
    }
  });

  test('a folder whose pods run on podman is not moved to process when podman stops working', async () => {
    const dataDir = join(tmp, 'podman-gone');
    mkdirSync(dataDir);
    const first = await chooseRuntime(dataDir, 'podman', podmanOpts(dataDir));
    await first.close();
    assert.match(await rejection(chooseRuntime(dataDir, undefined, podmanOpts(dataDir, join(tmp, 'no-such-podman')))),
      new RegExp(`the pods of ${dataDir} run on podman, and podman not found on PATH`));
    forgetRuntime(dataDir);
  });
}

test.run();
