// The data folder's lock in one process: open-file-description locks conflict even between two opens of one process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirInUse, isDataDirLocked, lockDataDir, readLockOwner } from '../../src/cli/data-dir-lock.ts';
import { stop } from '../../src/cli/stop.ts';

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

test('convergit stop: a folder held by another stop is refused; a missing folder is an error, not created', async () => {
  const lock = lockDataDir(dir, 'stop');
  try {
    await stop({ dataDir: dir, timeout: 1000 }, () => {});
    assert.unreachable('stop went on while the folder was held');
  } catch (e) {
    assert.instance(e, DataDirInUse);
  } finally {
    lock.release();
  }
  const lines: string[] = [];
  assert.is(await stop({ dataDir: dir, timeout: 1000 }, (l) => lines.push(l)), 0);
  assert.equal(lines, ['no container was running']);
  const missing = path.join(dir, 'typo');
  try {
    await stop({ dataDir: missing, timeout: 1000 }, () => {});
    assert.unreachable('a missing folder was accepted');
  } catch (e) {
    assert.match((e as Error).message, `no data folder at ${missing}: nothing to stop`);
  }
  assert.not.ok(existsSync(missing), 'not created');
});

test.run();
