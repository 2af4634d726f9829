#!/usr/bin/env node
// npm's `prepare`: compiles src/ to build/ with tsc (docs/engine.md, "Start-up"), then the validators of the built-in kinds. TypeScript is a dev dependency:
// `npm install --omit=dev` (or `npm ci --omit=dev`) has none, and then the build is skipped with a notice instead of
// failing the install; bin/convergit.js runs the sources through tsx (a runtime dependency) instead.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let tsc;
try {
  const manifest = require.resolve('typescript/package.json'); // its exports name no bin file
  tsc = path.join(path.dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin.tsc);
} catch {
  console.log('convergit: typescript is not installed (--omit=dev): not compiling src/ to build/; convergit runs the sources through tsx');
  process.exit(0);
}
const cwd = new URL('..', import.meta.url);
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd });
if (r.status !== 0) process.exit(r.status ?? 1);
// Validators shipped with the build (scripts/precompile-validators.mjs): a failure costs the first run a compile, not the install.
const v = spawnSync(process.execPath, [new URL('precompile-validators.mjs', import.meta.url).pathname], { stdio: 'inherit', cwd });
if (v.status !== 0) console.log('convergit: validators not precompiled; they are compiled on first use');
process.exit(0);
