#!/usr/bin/env node
// npm's `prepare`: compiles src/ to build/ with tsc (docs/engine.md, "Start-up"), then the validators of the built-in kinds. TypeScript is a dev dependency:
// `npm install --omit=dev` (or `npm ci --omit=dev`) has none, and then the build is skipped with a notice instead of
// failing the install; bin/convergit.js runs the sources through tsx (a runtime dependency) instead.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

// Then build/ bundled into build/bundle/ (a chunk per command, loaded on demand): node loads serve's ~400 modules
// with 0.7-1.1 s of CPU instead of 1.7-2.1 s (load 65-85), most of a restart's start (docs/engine.md, "Start-up").
// esbuild is a dev dependency (and tsx's, a runtime one: the same copy). Every file sits two folders below the package, as under src/, so
// `new URL('../../schemas/…', import.meta.url)` still resolves. Without esbuild, bin/convergit.js runs build/.
let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  console.log('convergit: esbuild is not installed: build/ is not bundled; convergit runs build/');
  process.exit(0);
}
const out = new URL('../build/bundle/', import.meta.url);
rmSync(out, { recursive: true, force: true });
esbuild.buildSync({
  // The parse worker is a module of its own (src/manifests/parse-pool.ts starts it from beside its own chunk).
  entryPoints: { main: fileURLToPath(new URL('../build/cli/main.js', import.meta.url)), 'parse-worker': fileURLToPath(new URL('../build/manifests/parse-worker.js', import.meta.url)) },
  outdir: fileURLToPath(out),
  bundle: true, splitting: true, format: 'esm', platform: 'node', logLevel: 'warning',
  external: ['fs-native-extensions'], // a native addon, loaded from node_modules
  // The CommonJS dependencies' require() of node's own modules, which an ES module has not got.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});
