// The data folder's lock in one process: open-file-description locks conflict even between two opens of one process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirInUse, isDataDirLocked, lockDataDir, readLockOwner } from '../../src/cli/data-dir-lock.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'convergit-lock-unit-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the lock is exclusive, says who holds it, and is taken again once released', () => {
  assert.not.ok(isDataDirLocked(dir));
  const lock = lockDataDir(dir, 'serve');
  assert.ok(isDataDirLocked(dir));
  lock.announce({ url: 'http://127.0.0.1:1234' });
  assert.equal(readLockOwner(dir), { ...readLockOwner(dir)!, pid: process.pid, command: 'serve', url: 'http://127.0.0.1:1234' });
  try {
    lockDataDir(dir, 'stop');
    assert.unreachable('a second lock was granted');
  } catch (e) {
    assert.instance(e, DataDirInUse);
    assert.match((e as Error).message, `is in use by convergit serve (pid ${process.pid}, API http://127.0.0.1:1234`);
  }
  lock.release();
  lock.release();
  assert.is(readLockOwner(dir), undefined);
  assert.not.ok(isDataDirLocked(dir));
  lockDataDir(dir, 'stop').release();
});

test.run();
