// npm's prepare script (scripts/prepare.mjs) where TypeScript is not installed, as after `npm ci --omit=dev`: a
// one-line notice and success, no build/ (bin/convergit.js then runs the sources through tsx).
// And the bundles it builds are ASCII (scripts/ascii-bundle.mjs), so V8 holds their sources one byte a character.
// The whole production install is test/e2e/package-install.long.ts (npm run torture).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = new URL('../../scripts/prepare.mjs', import.meta.url).pathname;

test('without typescript: a notice, exit 0, nothing built', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-prepare-'));
  try {
    mkdirSync(path.join(dir, 'scripts'));
    copyFileSync(SCRIPT, path.join(dir, 'scripts/prepare.mjs'));
    copyFileSync(new URL('../../scripts/ascii-bundle.mjs', import.meta.url), path.join(dir, 'scripts/ascii-bundle.mjs'));
    const r = await promisify(execFile)(process.execPath, ['scripts/prepare.mjs'], { cwd: dir });
    assert.is(r.stdout.trim().split('\n').length, 1, r.stdout);
    assert.match(r.stdout, /typescript is not installed .*not compiling src\/ to build\/.* through tsx/);
    assert.not.ok(existsSync(path.join(dir, 'build')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const BUNDLE = new URL('../../build/bundle/', import.meta.url);

test('asciiText escapes what means the same escaped, and refuses a text where an escape could change the meaning', async () => {
  const { asciiText } = await import('../../scripts/ascii-bundle.mjs');
  const src = 'const a = "→"; const t = `x ${1} …`; const r = /[\u00e9-￿]/u; // kind → name\n/** ’ */ const µ = 1;\n';
  const text = asciiText(src).text ?? '';
  assert.is(text.search(/[^\0-\x7f]/), -1, text);
  assert.is(text, 'const a = "\\u2192"; const t = `x ${1} \\u2026`; const r = /[\\u00e9-\\uffff]/u; // kind \\u2192 name\n/** \\u2019 */ const \\u00b5 = 1;\n');
  // The same program: run both and compare what they compute.
  const run = (code: string) => new Function(`${code}; return [a, t, r.test('\u00e9'), r.test('z'), r.test('\uffff'), µ];`)();
  assert.equal(run(text), run(src));
  assert.equal(asciiText('plain ASCII'), { text: 'plain ASCII' });
  assert.match(asciiText('const r = /[\\→]/;').refused ?? '', /backslash/);
  assert.match(asciiText('// a\u2028 b\n').refused ?? '', /separator/);
  assert.match(asciiText('const s = String.raw`→`;').refused ?? '', /String\.raw/);
});

test('the bundles are ASCII: a non-ASCII character would double the heap their source takes', () => {
  if (!existsSync(BUNDLE)) return console.log('  (no build/bundle/: esbuild not installed; skipped)');
  const files = readdirSync(BUNDLE);
  assert.ok(files.includes('serve.cjs'), files.join(' '));
  for (const name of files) {
    const text = readFileSync(new URL(name, BUNDLE), 'utf8'), at = text.search(/[^\0-\x7f]/);
    assert.is(at, -1, `${name}: ${JSON.stringify(text.slice(at - 40, at + 10))}`);
  }
  // The escapes mean what the characters meant (sources that hold → and ’ in strings and comments).
  assert.match(readFileSync(new URL('serve.cjs', BUNDLE), 'utf8'), /\\u2192/);
});

test('the CommonJS bundle is strict code, as the ES modules it is made of: a write to a frozen object throws', () => {
  if (!existsSync(BUNDLE)) return console.log('  (no build/bundle/: esbuild not installed; skipped)');
  const text = readFileSync(new URL('serve.cjs', BUNDLE), 'utf8');
  assert.ok(text.startsWith('"use strict";'), `its first statement: ${JSON.stringify(text.slice(0, 80))}`);
  // As bin/run-bundle.js runs it (a function around it): strict inside.
  const strict = new Function(`${text.slice(0, text.indexOf(';') + 1)} return (function () { return this; })() === undefined;`)();
  assert.ok(strict);
});

test.run();
