#!/usr/bin/env node
// npm's `prepare`: compiles src/ to build/ with tsc (docs/engine.md, "Start-up"). TypeScript is a dev dependency:
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
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
process.exit(r.status ?? 1);
