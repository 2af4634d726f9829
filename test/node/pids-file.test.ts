// pids.json as the node keeps it: changes made a turn of the loop apart are written together, off the loop and
// whole (each entry's bytes as first written, non-ASCII included); a removal is written too; flush writes now.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PidsFile, type PidEntry } from '../../src/node/pids-file.ts';
import { until } from '../support/wait.ts';

const entry = (i: number): PidEntry => ({
  podUID: `uid-${i}`, container: 'main', record: { pid: 1000 + i, startTime: 5 } as PidEntry['record'],
  launch: { argv: ['sleep', 'é', String(i)], env: {}, cwd: '/' } as unknown as PidEntry['launch'], restartCount: i % 3, graceMs: 30_000,
});
let dir: string, file: string;
test.before.each(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-pids-'));
  file = path.join(dir, 'nodes', 'n1', 'pids.json');
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

const onDisk = (file: string) => { try { return JSON.parse(readFileSync(file, 'utf8')) as PidEntry[]; } catch { return undefined; } };

test('entries added and removed a turn of the loop apart end up on disk, whole, in order', async () => {
  const pids = new PidsFile(file);
  pids.load();
  for (let i = 0; i < 60; i++) {
    pids.add(entry(i));
    await new Promise((r) => setImmediate(r));
  }
  pids.remove('uid-7', 'main');
  pids.remove('uid-8', 'main', { pid: 1 } as PidEntry['record']); // another instance's record: kept
  const want = Array.from({ length: 60 }, (_, i) => entry(i)).filter((e) => e.podUID !== 'uid-7');
  await until(() => JSON.stringify(onDisk(file)) === JSON.stringify(want), 'the file to hold every change');
  assert.equal(onDisk(file), want);
  assert.equal(pids.list(), want);
  // A change written at once when asked (serve exiting, another reader in this process).
  pids.add(entry(99));
  pids.flush();
  assert.equal(onDisk(file)!.at(-1), entry(99));
  // The next process reads what this one wrote.
  assert.equal(new PidsFile(file).load(), [...want, entry(99)]);
});

test('a closed file takes no more changes: the next node on the folder owns it', async () => {
  const first = new PidsFile(file);
  first.load();
  first.add(entry(1));
  await first.close();
  assert.equal(onDisk(file), [entry(1)], 'what it recorded is written by close');
  const next = new PidsFile(file);
  assert.equal(next.load(), [entry(1)]);
  next.add(entry(2));
  next.flush();
  // What the detached node hears later (an exit its runtime still reports) changes nothing.
  first.remove('uid-1', 'main');
  first.add(entry(3));
  await first.settle();
  first.flush();
  assert.equal(onDisk(file), [entry(1), entry(2)]);
  assert.equal(first.list(), [entry(1)]);
});

test.run();
