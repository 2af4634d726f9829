import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { containerLogFile, followPodLog, LogError, podLogDir, readPodLog, removePodLogs } from '../../src/node/logs.ts';
import { appendFile } from 'node:fs/promises';
import { until } from '../support/wait.ts';

let dataDir = '';
test.before.each(async () => { dataDir = await mkdtemp(join(tmpdir(), 'convergit-logs-')); });
test.after.each(async () => { await rm(dataDir, { recursive: true, force: true }); });

const ref = { namespace: 'default', name: 'web-x', uid: 'u-1' };

function pod(containers: string[], statuses: { name: string; restartCount: number; waiting?: string }[] = [], init: string[] = []): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { ...ref },
    spec: { containers: containers.map((name) => ({ name, image: 'x' })), ...(init.length ? { initContainers: init.map((name) => ({ name, image: 'x' })) } : {}) },
    status: {
      containerStatuses: statuses.map((s) => ({
        name: s.name, restartCount: s.restartCount, state: s.waiting ? { waiting: { reason: s.waiting } } : { running: {} },
      })),
    },
  };
}

async function write(container: string, run: number, text: string) {
  const file = containerLogFile(dataDir, ref, container, run);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}

async function logError(p: Promise<unknown>): Promise<LogError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LogError) return e;
    throw e;
  }
  throw new Error('expected a LogError');
}

test('paths follow the data folder layout', () => {
  assert.is(podLogDir('/d', ref), '/d/pods/default_web-x_u-1');
  assert.is(containerLogFile('/d', ref, 'web', 2), '/d/pods/default_web-x_u-1/web/2.log');
});

test('the current log is the run named by restartCount; previous is the run before', async () => {
  await write('web', 0, 'first run\n');
  await write('web', 1, 'second run\n');
  await write('web', 2, 'third run\n');
  const p = pod(['web'], [{ name: 'web', restartCount: 1 }]);
  assert.is(await readPodLog(dataDir, p), 'second run\n');
  assert.is(await readPodLog(dataDir, p, { previous: true }), 'first run\n');
  const latest = pod(['web']); // no status yet: the highest-numbered file
  assert.is(await readPodLog(dataDir, latest), 'third run\n');
  assert.is(await readPodLog(dataDir, latest, { previous: true }), 'second run\n');
});

test('while a container waits to restart, its last run is current', async () => {
  await write('web', 0, 'crashed once\n');
  await write('web', 1, 'crashed twice\n');
  const p = pod(['web'], [{ name: 'web', restartCount: 2, waiting: 'CrashLoopBackOff' }]);
  assert.is(await readPodLog(dataDir, p), 'crashed twice\n');
  assert.is(await readPodLog(dataDir, p, { previous: true }), 'crashed once\n');
});

test('a container is chosen by name; several need a name', async () => {
  await write('a', 0, 'from a\n');
  await write('b', 0, 'from b\n');
  const p = pod(['a', 'b'], [], ['setup']);
  assert.is(await readPodLog(dataDir, p, { container: 'b' }), 'from b\n');
  const none = await logError(readPodLog(dataDir, p));
  assert.is(none.status, 400);
  assert.is(none.message, 'a container name must be specified for pod web-x, choose one of: [a b] or one of the init containers: [setup]');
  const bad = await logError(readPodLog(dataDir, p, { container: 'c' }));
  assert.equal([bad.status, bad.message], [400, 'container c is not valid for pod web-x']);
});

test('no log yet, or no previous run, are errors worded as Kubernetes words them', async () => {
  const waiting = await logError(readPodLog(dataDir, pod(['web'])));
  assert.equal([waiting.status, waiting.message], [400, 'container "web" in pod "web-x" is waiting to start: ContainerCreating']);
  const pulling = await logError(readPodLog(dataDir, pod(['web'], [{ name: 'web', restartCount: 0, waiting: 'ErrImagePull' }])));
  assert.is(pulling.message, 'container "web" in pod "web-x" is waiting to start: ErrImagePull');
  await write('web', 0, 'only run\n');
  const prev = await logError(readPodLog(dataDir, pod(['web'], [{ name: 'web', restartCount: 0 }]), { previous: true }));
  assert.equal([prev.status, prev.message], [400, 'previous terminated container "web" in pod "web-x" not found']);
});

test('tailLines keeps the last lines, with or without a final newline', async () => {
  await write('web', 0, 'one\ntwo\nthree\n');
  const p = pod(['web']);
  assert.is(await readPodLog(dataDir, p, { tailLines: 2 }), 'two\nthree\n');
  assert.is(await readPodLog(dataDir, p, { tailLines: 3 }), 'one\ntwo\nthree\n');
  assert.is(await readPodLog(dataDir, p, { tailLines: 10 }), 'one\ntwo\nthree\n');
  assert.is(await readPodLog(dataDir, p, { tailLines: 0 }), '');
  await write('web', 0, 'one\ntwo\npartial');
  assert.is(await readPodLog(dataDir, p, { tailLines: 2 }), 'two\npartial');
  await write('web', 0, '');
  assert.is(await readPodLog(dataDir, p, { tailLines: 2 }), '');
});

test('tailLines across read chunks of a big log', async () => {
  const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
  await write('web', 0, lines.join('\n') + '\n');
  const got = await readPodLog(dataDir, pod(['web']), { tailLines: 20_000 });
  assert.is(got, lines.slice(-20_000).join('\n') + '\n');
});

test('limitBytes cuts what tailLines selected', async () => {
  await write('web', 0, 'one\ntwo\nthree\n');
  const p = pod(['web']);
  assert.is(await readPodLog(dataDir, p, { limitBytes: 5 }), 'one\nt');
  assert.is(await readPodLog(dataDir, p, { tailLines: 1, limitBytes: 3 }), 'thr');
});

test('removePodLogs removes every log of the pod', async () => {
  await write('web', 0, 'x\n');
  await removePodLogs(dataDir, ref);
  assert.not.ok(existsSync(podLogDir(dataDir, ref)));
  await removePodLogs(dataDir, ref); // and is safe when nothing is there
});

test('follow: the tail, then what is appended, until aborted or the container restarts', async () => {
  await write('web', 0, 'a\nb\n');
  let got = '';
  const stop = new AbortController();
  const following = followPodLog(dataDir, pod(['web'], [{ name: 'web', restartCount: 0 }]), { tailLines: 1 }, (c) => { got += c; }, stop.signal, 10);
  await until(() => got === 'b\n', 'the tail');
  await appendFile(containerLogFile(dataDir, ref, 'web', 0), 'c\n');
  await until(() => got === 'b\nc\n', 'the appended line');
  await write('web', 1, 'next run\n');
  await following; // ended by the newer run
  assert.is(got, 'b\nc\n');

  let again = '';
  const aborted = followPodLog(dataDir, pod(['web'], [{ name: 'web', restartCount: 1 }]), {}, (c) => { again += c; }, stop.signal, 10);
  stop.abort();
  await aborted;
  assert.is(again, 'next run\n');
});

test('follow goes on across rotations: a file renamed and made anew (podman), a head cut in place (process)', async () => {
  const file = containerLogFile(dataDir, ref, 'web', 0);
  await write('web', 0, 'a\n');
  let got = '';
  const stop = new AbortController();
  const following = followPodLog(dataDir, pod(['web'], [{ name: 'web', restartCount: 0 }]), {}, (c) => { got += c; }, stop.signal, 10);
  await until(() => got === 'a\n', 'the first line');
  // Renamed: the old file's last lines are read to its end, then the new file from its start.
  await appendFile(file, 'b\n');
  await rename(file, `${file}.20260101-000000`);
  await appendFile(`${file}.20260101-000000`, 'c\n');
  await writeFile(file, 'd\n');
  await until(() => got === 'a\nb\nc\nd\n', 'the lines of both files');
  // Cut in place: what is left of the file, and what comes after, is read once.
  await appendFile(file, 'e\n');
  await until(() => got.endsWith('e\n'), 'e');
  await writeFile(file, 'e\nf\n'); // the head 'd\n' cut out, and 'f' written since: as long as it was
  await writeFile(`${file}.20260101-000001`, 'd\n'); // named after the cut, as log-rotation.ts does
  await until(() => got.endsWith('f\n'), 'f');
  stop.abort();
  await following;
  assert.is(got, 'a\nb\nc\nd\ne\nf\n');
});

test.run();
