// npm's prepare script (scripts/prepare.mjs) where TypeScript is not installed, as after `npm ci --omit=dev`: a
// one-line notice and success, no build/ (bin/convergit.js then runs the sources through tsx).
// The whole production install is test/e2e/package-install.long.ts (npm run torture).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = new URL('../../scripts/prepare.mjs', import.meta.url).pathname;

test('without typescript: a notice, exit 0, nothing built', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-prepare-'));
  try {
    mkdirSync(path.join(dir, 'scripts'));
    copyFileSync(SCRIPT, path.join(dir, 'scripts/prepare.mjs'));
    const r = await promisify(execFile)(process.execPath, ['scripts/prepare.mjs'], { cwd: dir });
    assert.is(r.stdout.trim().split('\n').length, 1, r.stdout);
    assert.match(r.stdout, /typescript is not installed .*not compiling src\/ to build\/.* through tsx/);
    assert.not.ok(existsSync(path.join(dir, 'build')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
