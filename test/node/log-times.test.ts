// sinceSeconds/sinceTime and timestamps over the two line formats a container log file may hold: the kubelet's CRI
// lines (`<time> stdout F <text>`) and plain lines (the process runtime's: timed by the index serve keeps beside the
// file, `<log>.times`, and by the file's last write where the index has not seen them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { containerLogFile, criLine, followPodLog, presentLog, readPodLog } from '../../src/node/logs.ts';
import { logTimesFile, readLogTimes, watchLogTimes } from '../../src/node/log-times.ts';
import { rotateLog } from '../../src/node/log-rotation.ts';
import { until } from '../support/wait.ts';

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

test('plain lines without an index: their file\'s last write is their time, for since and timestamps alike', async () => {
  await write('listening\nready\n', t('10'));
  assert.is(await readPodLog(dataDir, pod, { since: t('05') }), 'listening\nready\n');
  assert.is(await readPodLog(dataDir, pod, { since: t('20') }), '');
  assert.is(await readPodLog(dataDir, pod, { timestamps: true }), '2026-01-01T00:00:10.000000000Z listening\n2026-01-01T00:00:10.000000000Z ready\n');
});

test('plain lines with an index: each line the time its first byte was seen; bytes past the index the mtime', async () => {
  const file = containerLogFile(dataDir, ref, 'web', 0);
  await write('one\ntwo\nthr', t('30'));
  // "one\n" seen at :01, "two\nth" at :02 (a line is timed by its first byte), nothing after offset 10 indexed.
  await writeFile(logTimesFile(file), `4 ${t('01').getTime()}\n10 ${t('02').getTime()}\n`);
  await appendFile(file, 'ee\nfour\n');
  await utimes(file, t('30'), t('30'));
  assert.is(await readPodLog(dataDir, pod, { timestamps: true }), [
    '2026-01-01T00:00:01.000000000Z one', '2026-01-01T00:00:02.000000000Z two', '2026-01-01T00:00:02.000000000Z three',
    '2026-01-01T00:00:30.000000000Z four', ''].join('\n'));
  assert.is(await readPodLog(dataDir, pod, { since: t('02') }), 'two\nthree\nfour\n');
  assert.is(await readPodLog(dataDir, pod, { since: t('03') }), 'four\n');
  assert.is(await readPodLog(dataDir, pod, { tailLines: 2, timestamps: true }), '2026-01-01T00:00:02.000000000Z three\n2026-01-01T00:00:30.000000000Z four\n', 'tail keeps offsets');
  // A torn last entry (a crash mid-append) is ignored, not misread, and cut off when the file is watched again.
  await appendFile(logTimesFile(file), '20 17');
  assert.is(readLogTimes(file).ends.length, 2);
  const stop = watchLogTimes(file);
  stop();
  assert.equal(readLogTimes(file).ends, [4, 10, 19], 'the rest of the file indexed after the torn entry');
});

test('a watched file: each growth indexed when seen (inotify); unwatched growth stamped with the mtime at the next watch', async () => {
  const file = containerLogFile(dataDir, ref, 'web', 0);
  await write('');
  const stop = watchLogTimes(file);
  const before = Date.now();
  await appendFile(file, 'first\n');
  await until(async () => readLogTimes(file).ends.at(-1) === 6, 'the first line indexed');
  const seen = readLogTimes(file).times[0];
  assert.ok(seen >= before && seen <= Date.now(), 'stamped between its write and now');
  stop();
  // Written while nobody watched (serve down): stamped with the file's mtime when watched again, not the watch time.
  await appendFile(file, 'second\n');
  await utimes(file, t('40'), t('40'));
  const stop2 = watchLogTimes(file);
  stop2();
  assert.equal(readLogTimes(file), { ends: [6, 13], times: [seen, t('40').getTime()] });
  // Read through a follow as well: both lines with their times.
  const out: string[] = [];
  const ac = new AbortController();
  const following = followPodLog(dataDir, pod, { timestamps: true }, (c) => { out.push(c); ac.abort(); }, ac.signal, 10);
  await following;
  assert.is(out.join(''), `${new Date(seen).toISOString().replace('Z', '000000Z')} first\n2026-01-01T00:00:40.000000000Z second\n`);
});

test('a rotation that cuts the head in place shifts the index: every line left keeps its time', async () => {
  const file = containerLogFile(dataDir, ref, 'web', 0);
  const block = (await stat(dataDir)).blksize || 4096;
  const a = 'a'.repeat(block - 1) + '\n', b = 'b'.repeat(99) + '\n';
  await write(a + b);
  await writeFile(logTimesFile(file), `${block} ${t('01').getTime()}\n${block + 100} ${t('02').getTime()}\n`);
  const stop = watchLogTimes(file);
  assert.ok(await rotateLog(file, { maxSizeBytes: block, maxFiles: 3 }));
  stop();
  assert.is(await readFile(file, 'utf8'), b, 'the first block cut out');
  assert.equal(readLogTimes(file), { ends: [100], times: [t('02').getTime()] });
  assert.is(await readPodLog(dataDir, pod, { timestamps: true }), `2026-01-01T00:00:02.000000000Z ${'b'.repeat(99)}\n`);
});

test.run();
