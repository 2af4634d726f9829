// The termination message as the kubelet reads it: the file's last 4096 bytes, or (fallback) the log's last 80
// lines / 2048 bytes, with CRI framing taken off; nothing when the file is missing and there is no fallback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logTail, terminationLogOf, terminationMessage } from '../../src/node/termination-message.ts';
import { criLine } from '../../src/node/logs.ts';

let dir = '';
test.before.each(async () => { dir = await mkdtemp(join(tmpdir(), 'convergit-termmsg-')); });
test.after.each(async () => { await rm(dir, { recursive: true, force: true }); });

test('the file: its last 4096 bytes; missing, with or without a fallback to the log', async () => {
  const log = join(dir, '0.log');
  const file = terminationLogOf(log);
  assert.is(file, join(dir, '0.termination-log'));
  await writeFile(log, 'from the log\n');
  assert.is(await terminationMessage(file, log, false), '');
  assert.is(await terminationMessage(file, log, true), 'from the log\n');
  await writeFile(file, 'x'.repeat(5000) + 'END');
  const m = await terminationMessage(file, log, true);
  assert.is(m.length, 4096);
  assert.ok(m.endsWith('END'));
  await writeFile(file, '');
  assert.is(await terminationMessage(file, log, true), 'from the log\n', 'an empty file falls back too');
});

test('the log: the last 80 lines, of which the last 2048 bytes; CRI lines as their text', async () => {
  const log = join(dir, '1.log');
  await writeFile(log, Array.from({ length: 100 }, (_, i) => criLine(new Date(0), 'stdout', `line ${i}`)).join(''));
  const t = await logTail(log);
  assert.ok(t.startsWith('line 20\n') && t.endsWith('line 99\n'), t.slice(0, 20));
  await writeFile(log, Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')} ${'y'.repeat(96)}`).join('\n') + '\n');
  const long = await logTail(log);
  assert.is(Buffer.byteLength(long), 2048);
  assert.ok(long.endsWith(`049 ${'y'.repeat(96)}\n`));
});

test.run();
