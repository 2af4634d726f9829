// bin/convergit.js sets the V8 heap flags CONVERGIT_V8_FLAGS names for every command (docs/engine.md, "Memory"): a
// real serve, run as the e2e tests and `npm start` run it, keeps its young generation at its first semi-space (or at
// most one doubling: see the test) even after the loader's worker threads (whose heap set-up raises V8's growth factor back to 2) have come and gone.
// Without them and with serve's start-up hold off (CONVERGIT_START_HEAP=off) the same serve grows it, so the check can
// fail. By default serve holds the same flags while it starts (src/cli/start-heap.ts; test/cli/start-heap.test.ts
// measures it; bin holds the young generation from before serve's code loads) but for its first sync, whose objects
// live on: the young generation grows for it (serve says how far) and is given back after it; serve says when it lets go.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { memoryOf, memoryProbe } from '../bench/serve-memory.ts';

const cm = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: "${'x'.repeat(200)}"\n`;

/** The young generation's size (MB) once a serve of 400 files (parsed in worker threads) is Synced, and its log. */
async function youngAfterSync(env: Record<string, string>): Promise<{ young: number; after?: number; log: string }> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 400; i++) files[`deploy/team-${i % 10}/cm-${i}.yaml`] = cm(i);
  const repo = makeRepo(files);
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-v8-flags-'));
  const probe = memoryProbe(path.join(dir, 'memory.json'), false);
  const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', path.join(dir, 'data')],
    { nodeArgs: probe.nodeArgs, env: { ...probe.env, CONVERGIT_PARSE_WORKERS: '1', ...env }, listenTimeoutMs: 60_000 });
  try {
    await until(async () => (await serve.get('/status?summary')).body?.sync === 'Synced', 'Synced', 60_000);
    const young = (await memoryOf(serve.pid, path.join(dir, 'memory.json'))).spaces.new_space.committed;
    if (env.CONVERGIT_V8_FLAGS !== undefined || env.CONVERGIT_START_HEAP) return { young, log: serve.output() };
    await until(() => /memory: start-up heap hold over/.test(serve.output()), 'the start-up hold to end', 30_000);
    // Given back after V8's next full collection for a heap optimising for size (the hold's first pass) or, once the
    // serve is quiet, its memory reducer's.
    let after = young;
    await until(async () => (after = (await memoryOf(serve.pid, path.join(dir, 'memory.json'))).spaces.new_space.committed) <= 4, 'the young generation given back', 60_000).catch(() => {});
    return { young, after, log: serve.output() };
  } finally {
    await serve.shutdown();
    repo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('with CONVERGIT_V8_FLAGS capping it, serve keeps its young generation at 2 MB (4 at most) through its worker threads; without, V8 grows it', async () => {
  const { young: withFlags } = await youngAfterSync({ CONVERGIT_V8_FLAGS: '--semi-space-growth-factor=1 --heap-growing-percent=30' });
  const { young: without } = await youngAfterSync({ CONVERGIT_START_HEAP: 'off' });
  // The flag is set again once each worker is online: a scavenge in the moment between the worker's heap set-up
  // and that may double it once (a loaded CI machine saw 4 MB). By default it grows to 16–32 MB here.
  assert.ok(withFlags <= 4, `young generation ${withFlags} MB with the flags`);
  assert.ok(without > 4, `young generation ${without} MB by default: the check could not fail`);
});

test('by default serve lets its young generation grow for its first sync, gives it back after, and lets go of the hold once the start is done, and says so', async () => {
  const { after, log } = await youngAfterSync({});
  // As serve says it at the first sync's end: probed at Synced, the first pass's collections had sometimes given it
  // back already.
  const young = Number(/memory: young generation (\d+) MB after the first sync/.exec(log)?.[1]);
  assert.ok(young > 4, `young generation ${young} MB after the first sync: the first sync's objects (which live on) did not grow it`);
  assert.match(log, /memory: start-up heap hold over \((the start's work done [\d.]+ s after serving|10 s after serving, still busy)\)/);
  assert.ok(after! <= 4, `young generation ${after} MB once given back`);
});

test.run();
