// sinceSeconds/sinceTime and timestamps over the two line formats a container log file may hold: the kubelet's CRI
// lines (`<time> stdout F <text>`) and plain lines (no time of their own: their file's last write stands for it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { containerLogFile, criLine, presentLog, readPodLog } from '../../src/node/logs.ts';

let dataDir = '';
test.before.each(async () => { dataDir = await mkdtemp(join(tmpdir(), 'convergit-log-times-')); });
test.after.each(async () => { await rm(dataDir, { recursive: true, force: true }); });

const ref = { namespace: 'default', name: 'web-x', uid: 'u-1' };
const pod: KubeObject = {
  apiVersion: 'v1', kind: 'Pod', metadata: { ...ref },
  spec: { containers: [{ name: 'web', image: 'x' }] },
  status: { containerStatuses: [{ name: 'web', restartCount: 0, state: { running: {} } }] },
};
const t = (s: string) => new Date(`2026-01-01T00:00:${s}Z`);

async function write(text: string, mtime?: Date) {
  const file = containerLogFile(dataDir, ref, 'web', 0);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  if (mtime) await utimes(file, mtime, mtime);
}

test('CRI lines: shown as their text; since drops earlier lines; timestamps shows each line\'s own time', async () => {
  await write(criLine(t('01'), 'stdout', 'one') + criLine(t('02'), 'stderr', 'two') + criLine(t('03'), 'stdout', 'three'));
  assert.is(await readPodLog(dataDir, pod), 'one\ntwo\nthree\n');
  assert.is(await readPodLog(dataDir, pod, { since: t('02') }), 'two\nthree\n');
  assert.is(await readPodLog(dataDir, pod, { timestamps: true, tailLines: 1 }), '2026-01-01T00:00:03.000000000Z three\n');
  assert.is(await readPodLog(dataDir, pod, { since: t('02'), limitBytes: 5 }), 'two\nt', 'limitBytes counts what is shown');
});

test('a partial CRI line (P) is joined with the line that completes it', () => {
  const text = '2026-01-01T00:00:01.5Z stdout P hel\n2026-01-01T00:00:01.6Z stdout F lo\n';
  assert.is(presentLog(text, {}), 'hello\n');
  assert.is(presentLog(text, { timestamps: true }), '2026-01-01T00:00:01.5Z hel2026-01-01T00:00:01.6Z lo\n');
});

test('plain lines: kept as they are, dropped by since only when their file was last written before it', async () => {
  await write('listening\nready\n', t('10'));
  assert.is(await readPodLog(dataDir, pod, { since: t('05') }), 'listening\nready\n');
  assert.is(await readPodLog(dataDir, pod, { since: t('20') }), '');
  assert.is(await readPodLog(dataDir, pod, { timestamps: true }), 'listening\nready\n', 'no time is made up');
});

test.run();
