import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileWhole, writeFileWholeSync } from '../../src/store/durable-file.ts';

const forms = [
  ['writeFileWholeSync', async (f: string, d: string, mode?: number) => writeFileWholeSync(f, d, mode)],
  ['writeFileWhole', writeFileWhole],
] as const;

for (const [name, write] of forms) {
  test(`${name}: replaces the file whole, with the mode asked, and leaves no temporary file`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convergit-whole-'));
    try {
      const file = join(dir, 'config');
      writeFileSync(file, 'old content, longer than the new one\n');
      await write(file, 'new\n', 0o600);
      assert.is(readFileSync(file, 'utf8'), 'new\n');
      assert.is(statSync(file).mode & 0o777, 0o600);
      assert.equal(readdirSync(dir), ['config']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: a failed write throws, keeps the old file as it was and removes its temporary file`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convergit-whole-'));
    try {
      const target = join(dir, 'taken');
      mkdirSync(target); // a folder where the file should go: the rename fails after the temporary file is written
      writeFileSync(join(target, 'inside'), 'kept');
      let error: unknown;
      await write(target, 'new').catch((e) => (error = e));
      assert.ok(error instanceof Error && /EISDIR|ENOTEMPTY|EEXIST/.test((error as NodeJS.ErrnoException).code ?? ''), `${error}`);
      assert.equal(readdirSync(dir), ['taken'], 'no temporary file left beside it');
      assert.is(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
      let missing: unknown;
      await write(join(dir, 'no-such-folder', 'file'), 'new').catch((e) => (missing = e));
      assert.is((missing as NodeJS.ErrnoException)?.code, 'ENOENT', 'a missing folder: the error as it came');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
