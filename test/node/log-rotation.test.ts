// Log rotation on real containers, while they write as fast as they can: nothing lost or doubled across the rotated
// files on the process runtime (copy, then the copied head collapsed out of the file in place) and on podman
// (rename, then conmon reopens the path). Then the kubelet's housekeeping: at most max-files files, older ones gzipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { rotateLog, rotatedLogs } from '../../src/node/log-rotation.ts';
import { presentLog } from '../../src/node/logs.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import type { ContainerLaunch, Runtime } from '../../src/node/runtime/runtime.ts';
import { podmanMissing } from '../support/podman.ts';

const LINES = 20_000;
// Bursts of 200 lines: fast enough that rotations fall mid-burst. At each quarter the writer waits (up to a minute)
// until the test has rotated that many times, so a slow machine still sees rotations while it writes.
const count = (dir: string) => ['sh', '-c', `i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo line $i; `
  + `if [ $((i % ${LINES / 4})) -eq 0 ]; then w=0; while [ ! -e ${dir}/rotated-$((i / ${LINES / 4})) ] && [ $w -lt 600 ]; do w=$((w+1)); sleep 0.1; done; fi; `
  + `[ $((i % 200)) -ne 0 ] || sleep 0.02; done`];

let dir = '';
test.before.each(async () => { dir = await realpath(await mkdtemp(join(tmpdir(), 'convergit-rotation-'))); });
test.after.each(() => rm(dir, { recursive: true, force: true }));

/** Rotates the log over and over while the container writes; then reads every file back, oldest first. */
async function rotateWhileWriting(runtime: Runtime, extra: Partial<ContainerLaunch> = {}): Promise<{ rotations: number; text: string }> {
  const logFile = join(dir, 'c', '0.log');
  const launch: ContainerLaunch = { id: 'default/rot/c', argv: count(dir), env: {}, cwd: dir, logFile, podUID: 'uid-rot', restartCount: 0, ...extra };
  const c = await runtime.start(launch);
  let done = false;
  void c.exited.then(() => { done = true; });
  let rotations = 0;
  let second = 0;
  while (!done) {
    // A distinct stamp per rotation (the kubelet's are per second).
    const now = new Date(Date.UTC(2026, 0, 1, 0, 0, second++));
    const reopen = runtime.reopenLog && c.record ? () => runtime.reopenLog!(c.record!) : undefined;
    if (await rotateLog(logFile, { maxSizeBytes: 16 * 1024, maxFiles: 10_000 }, reopen, now).catch(() => false)) {
      rotations++;
      await writeFile(join(dir, `rotated-${rotations}`), '');
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const exit = await c.exited;
  assert.is(exit.reason, 'Completed');
  let text = '';
  for (const f of [...await rotatedLogs(logFile), logFile]) {
    const raw = await readFile(f);
    text += (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  }
  return { rotations, text: presentLog(text, {}) };
}

const unbroken = (text: string) => {
  const lines = text.split('\n').filter(Boolean);
  assert.is(lines.length, LINES, 'every line once');
  lines.forEach((l, i) => { if (l !== `line ${i + 1}`) assert.unreachable(`line ${i + 1} is "${l}"`); });
};

test('process runtime: rotated while it writes, the files hold every line once, in order', async () => {
  const { rotations, text } = await rotateWhileWriting(new ProcessRuntime());
  assert.ok(rotations >= 3, `rotated ${rotations} times`);
  unbroken(text);
});

const missing = podmanMissing();
if (missing) console.log(`log-rotation (podman): skipped, ${missing}`);
else {
  test('podman: rotated while it writes (conmon reopens the file), every line once, in order, with its time', async () => {
    const runtime = await PodmanRuntime.create({ stateDir: join(dir, 'podman') });
    try {
      const { rotations, text } = await rotateWhileWriting(runtime, { mounts: [{ hostPath: dir, containerPath: dir }] });
      assert.ok(rotations >= 3, `rotated ${rotations} times`);
      unbroken(text);
    } finally {
      await runtime.close();
    }
  });
}

test('housekeeping: at most max-files files, all rotated but the newest gzipped; a small file is left alone', async () => {
  const log = join(dir, '0.log');
  for (let i = 0; i < 6; i++) {
    await writeFile(log, `${`run ${i}`.padEnd(4095, '.')}\n`.repeat(2)); // whole blocks: all of it is rotated
    assert.ok(await rotateLog(log, { maxSizeBytes: 1024, maxFiles: 3 }, undefined, new Date(Date.UTC(2026, 0, 1, 0, 0, i))));
  }
  await writeFile(log, 'small\n');
  assert.not.ok(await rotateLog(log, { maxSizeBytes: 1024, maxFiles: 3 }), 'under the size: not rotated');
  assert.equal((await readdir(dir)).sort(), ['0.log', '0.log.20260101-000004.gz', '0.log.20260101-000005']);
  assert.is(gunzipSync(await readFile(join(dir, '0.log.20260101-000004.gz'))).toString(), `${'run 4'.padEnd(4095, '.')}\n`.repeat(2));
  assert.is(await readFile(join(dir, '0.log'), 'utf8'), 'small\n');
});

test.run();
