// serve's event-loop thread runs at a raised priority when it may, and nothing it starts inherits that: checked in a
// real process (as root, and as another user, who may not raise it), and in a real serve and the helper it starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const MODULE = new URL('../../src/cli/loop-priority.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).pathname;
/** A thread's nice value: field 19 of its stat. */
const niceOf = (pid: number, tid = pid) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
const isRoot = process.getuid?.() === 0;

/** Raises the priority in a fresh node process; reports its result and the nice values of a thread made before, a child process and a new thread. */
function probe(wrap: string[] = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-nice-'));
  chmodSync(dir, 0o755);
  const script = path.join(dir, 'probe.mts');
  writeFileSync(script, `
import { raiseLoopPriority } from ${JSON.stringify(MODULE)};
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import os from 'node:os';
const early = new Worker('const { parentPort } = require("node:worker_threads"); parentPort.on("message", () => parentPort.postMessage(require("node:os").getPriority(0)))', { eval: true });
await new Promise((r) => early.once('online', r));
const result = await raiseLoopPriority(-5);
early.postMessage(0);
const before = await new Promise((r) => early.once('message', r));
await early.terminate();
const child = Number(execFileSync('sh', ['-c', 'cut -d" " -f19 /proc/$$/stat'], { encoding: 'utf8' }));
const thread = await new Promise((r) => new Worker('require("node:worker_threads").parentPort.postMessage(require("node:os").getPriority(0))', { eval: true }).once('message', r));
console.log(JSON.stringify({ result, loop: os.getPriority(0), before, child, thread }));
process.exit(0);
`);
  chmodSync(script, 0o644);
  try {
    const [cmd, ...args] = [...wrap, process.execPath, '--import', TSX, script];
    const out = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
    if (out.status !== 0) throw new Error(`probe failed: ${out.stderr}`);
    return JSON.parse(out.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('root: the loop thread and the threads already there run at nice -5; a child process and a new thread at 0', () => {
  if (!isRoot) return console.log('notice: not root: the raised-priority test is skipped');
  assert.equal(probe(), { result: { nice: -5 }, loop: -5, before: -5, child: 0, thread: 0 });
});

test('started at a lower priority (nice 10): left so, nothing raised', () => {
  if (!isRoot) return console.log('notice: not root: the started-low test is skipped (only root could raise it)');
  assert.equal(probe(['nice', '-n', '10']), {
    result: { unchanged: 'it was started at nice 10 (asked to run low: left so)' }, loop: 10, before: 10, child: 10, thread: 10,
  });
});

test('a user who may not raise it: unchanged, with the reason', () => {
  const nobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
  if (!isRoot || nobody.status !== 0) return console.log('notice: not root (or no setpriv): the unprivileged test is skipped');
  assert.equal(probe(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']), {
    result: { unchanged: 'needs root or CAP_SYS_NICE' }, loop: 0, before: 0, child: 0, thread: 0,
  });
});

test('serve raises its loop thread, says so, and the container helper it starts runs at 0; --loop-nice 0 leaves it', async () => {
  if (!isRoot) return console.log('notice: not root: serve\'s raised-priority test is skipped');
  const repo = makeRepo({ 'README.md': 'nice\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-nice-data-'));
  for (const [flags, loop] of [[[], -5], [['--loop-nice', '0'], 0]] as const) {
    const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, ...flags]);
    try {
      await until(async () => (await serve.get('/status')).body?.sync === 'Synced', 'first sync');
      if (loop) await until(() => serve.output().includes('priority: serve runs at nice -5; what it starts, at its own'), 'the priority line');
      assert.is(niceOf(serve.pid), loop);
      // The helper that starts containers (node -e …), started by the loop thread: a child of serve.
      const children = readFileSync(`/proc/${serve.pid}/task/${serve.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      const helper = children.find((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('spawn'));
      assert.ok(helper, `the container helper among serve's children ${children}`);
      assert.is(niceOf(helper!), 0);
      assert.match(execFileSync('chrt', ['--pid', String(helper)], { encoding: 'utf8' }), /policy: SCHED_OTHER\n/);
    } finally {
      await serve.shutdown();
    }
  }
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test.run();
