#!/usr/bin/env node
// npm's `prepare`: compiles src/ to build/ with tsc (docs/engine.md, "Start-up"), then the validators of the built-in kinds. TypeScript is a dev dependency:
// `npm install --omit=dev` (or `npm ci --omit=dev`) has none, and then the build is skipped with a notice instead of
// failing the install; bin/convergit.js runs the sources through tsx (a runtime dependency) instead.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asciiText } from './ascii-bundle.mjs';

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

// Then build/ bundled into build/bundle/ twice (docs/engine.md, "Start-up"): node loads serve's ~400 modules with
// a fraction of the CPU. main.js plus chunks (one per command, loaded on demand) for every command; and serve.cjs,
// one CommonJS file for `serve` (whose restart cost matters most), `validate` and `plan`: V8 caches compiled code
// only for a script compiled through vm.Script (bin/run-bundle.js), which must be CommonJS; as one file it would
// cost the short commands more than the cache saves them. esbuild is a dev dependency (and tsx's, a runtime one: the
// same copy). Every file sits two folders below the package, as under src/, so
// `new URL('../../schemas/…', import.meta.url)` still resolves.
// Without esbuild, bin/convergit.js runs build/.
let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  console.log('convergit: esbuild is not installed: build/ is not bundled; convergit runs build/');
  process.exit(0);
}
const out = new URL('../build/bundle/', import.meta.url);
rmSync(out, { recursive: true, force: true });
const main = fileURLToPath(new URL('../build/cli/main.js', import.meta.url));
const common = {
  bundle: true, platform: 'node', logLevel: 'warning',
  external: ['fs-native-extensions'], // a native addon, loaded from node_modules
};
esbuild.buildSync({
  ...common, outdir: fileURLToPath(out), splitting: true, format: 'esm',
  // The parse worker and the API's front are modules of their own (src/manifests/parse-pool.ts and src/api/front.ts
  // start them from beside their own chunk, or beside serve.cjs).
  entryPoints: {
    main,
    'parse-worker': fileURLToPath(new URL('../build/manifests/parse-worker.js', import.meta.url)),
    'front-worker': fileURLToPath(new URL('../build/api/front-worker.js', import.meta.url)),
  },
  // The CommonJS dependencies' require() of node's own modules, which an ES module has not got.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});
esbuild.buildSync({
  ...common, entryPoints: [main], outfile: fileURLToPath(new URL('serve.cjs', out)), format: 'cjs',
  // Dynamic import()s of our modules become lazy initialisers; import.meta.url is the bundle's own URL.
  define: { 'import.meta.url': '__bundleUrl', 'import.meta.resolve': 'undefined' }, // resolve: only for running src/ through tsx
  // Strict, as the ES modules it is made of: esbuild's own "use strict" follows the banner, where it is no longer a
  // directive (sloppy, a write to a frozen object was silently dropped instead of throwing).
  banner: { js: "\"use strict\";var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// The bundles in ASCII (scripts/ascii-bundle.mjs): V8 then keeps their sources one byte a character.
for (const name of readdirSync(out)) {
  const file = new URL(name, out), text = readFileSync(file, 'utf8'), ascii = asciiText(text);
  if (ascii.refused) console.log(`convergit: build/bundle/${name} keeps its non-ASCII characters: ${ascii.refused}`);
  else if (ascii.text !== text) writeFileSync(file, ascii.text);
}

// Then V8's code cache of validate, plan and serve, shipped beside the bundles (scripts/train-code-cache.mjs).
spawnSync(process.execPath, [new URL('train-code-cache.mjs', import.meta.url).pathname], { stdio: 'inherit', cwd });
