// bin/convergit.js runs build/ only when it is at least as new as every file and folder under src/ (a file edited
// or added deep down, after the last `npm install`, makes it run the sources through tsx instead).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

test('build/ while every source is older; a source edited or added in a nested folder: src/ through tsx', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-bin-fresh-'));
  try {
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(path.join(ROOT, 'bin/convergit.js'), path.join(dir, 'bin/convergit.js'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    mkdirSync(path.join(dir, 'src/cli/deep'), { recursive: true });
    writeFileSync(path.join(dir, 'src/cli/main.ts'), "const from: string = 'src'; console.log(from);\n");
    writeFileSync(path.join(dir, 'src/cli/deep/a.ts'), 'export {};\n');
    mkdirSync(path.join(dir, 'build/cli'), { recursive: true });
    writeFileSync(path.join(dir, 'build/cli/main.js'), "console.log('build');\n");
    const old = new Date(Date.now() - 60_000);
    for (const f of ['src/cli/main.ts', 'src/cli/deep/a.ts', 'src/cli/deep', 'src/cli']) utimesSync(path.join(dir, f), old, old);
    const run = () => execFileSync(process.execPath, [path.join(dir, 'bin/convergit.js'), '--version'], { encoding: 'utf8' }).trim();
    assert.is(run(), 'build');
    writeFileSync(path.join(dir, 'src/cli/deep/a.ts'), 'export const edited = 1;\n');
    assert.is(run(), 'src', 'a nested file edited');
    utimesSync(path.join(dir, 'src/cli/deep/a.ts'), old, old);
    utimesSync(path.join(dir, 'src/cli/deep'), old, old);
    assert.is(run(), 'build');
    writeFileSync(path.join(dir, 'src/cli/deep/new.ts'), 'export {};\n');
    utimesSync(path.join(dir, 'src/cli/deep/new.ts'), old, old);
    assert.is(run(), 'src', 'a file added (its folder changed)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
