#!/usr/bin/env node
// Runs build/ (src compiled to JavaScript by `npm install`'s prepare script) when it is at least as new as every
// file under src/; otherwise the TypeScript sources through tsx's loader, as before. The built code starts with
// a third of the CPU (no loader hooks), which is most of a restart's cost (docs/engine.md, "Start-up").
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// V8 heap flags for a serve that must stay small (docs/engine.md, "Memory"), e.g. CONVERGIT_V8_FLAGS=
// '--semi-space-growth-factor=1 --heap-growing-percent=30': set here, not on a command line, so `npm start`,
// `npx convergit` and every `node bin/convergit.js` get them. Off by default: they made a 1,000-pod creation spend a
// fifth of serve's CPU in garbage collection, and a single GET wait 287 ms at p99 instead of 111 ms.
const V8_FLAGS = process.env.CONVERGIT_V8_FLAGS ?? '';
// Without them, serve still loads its bundle with the young generation held at its first size: loading it alone had
// doubled it twice. Set once: serve's start-up hold (src/cli/start-heap.ts) takes over before any worker starts, and
// lets it grow only as far as the first sync's surviving objects make V8 grow it (little for a small repository).
if (process.argv[2] === 'serve' && process.env.CONVERGIT_V8_FLAGS === undefined && process.env.CONVERGIT_START_HEAP !== 'off') {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
// validate, plan and serve's start are seconds of CPU from a cold start at 10,000 files, much of it before V8's
// optimizing compiler has caught up with what runs hot: its jobs took the second core (~1.7 s of CPU in a ~4 s cold
// plan), and their large inlined graphs came late. Smaller inlining budgets make smaller jobs, done sooner: a cold
// plan of 10,000 objects ~4% quicker with ~9% less CPU (docs/engine.md, "Start-up"). serve sets V8's own budget again
// once started (src/cli/v8-flags.ts). Not over CONVERGIT_V8_FLAGS, nor over a budget node was given.
if (['validate', 'plan', 'serve'].includes(process.argv[2]) && process.env.CONVERGIT_V8_FLAGS === undefined
  && !process.execArgv.some((a) => a.startsWith('--max-inlined-bytecode-size-cumulative'))) {
  const inlining = '--max-inlined-bytecode-size-cumulative=200';
  v8.setFlagsFromString(inlining);
  globalThis[Symbol.for('convergit.startInlining')] = inlining;
}
if (V8_FLAGS) {
  const apply = () => v8.setFlagsFromString(V8_FLAGS);
  apply();
  // Every new isolate's heap set-up raises the process-wide growth factor back to V8's minimum of 2 (Heap::ConfigureHeap):
  // a Worker (the loader's parse pool) undoes it. Set again at every turn of the loop until the worker runs (its
  // 'online' waits for a busy main thread: src/cli/worker-flags.ts, which bin cannot import), and after it ends.
  process.on('worker', (w) => {
    const meanwhile = setInterval(apply, 2);
    const settled = () => { clearInterval(meanwhile); apply(); };
    w.once('online', settled);
    w.once('exit', settled); // follows an error too
  });
}

const root = new URL('../', import.meta.url);
const mtime = (u) => { try { return statSync(u).mtimeMs; } catch { return -1; } };

function isFresh(entry) {
  const built = mtime(new URL(entry, root));
  if (built < 0 || process.env.CONVERGIT_NO_BUILD) return false;
  return !newerIn(fileURLToPath(new URL('src', root)), built);
}

/** A file or folder under `dir` changed after `time`. Walked by hand: node 20's recursive readdir took ~20 ms of each start for ~450 files, this ~5. */
function newerIn(dir, time) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const file = `${dir}/${e.name}`;
    if (mtime(file) > time || (e.isDirectory() && newerIn(file, time))) return true;
  }
  return false;
}

// The bundles of build/ first (scripts/prepare.mjs): serve's as one file whose compiled code V8 caches (a restart's
// start; and validate's and plan's, CPU-bound for seconds on a big repository: a cold `plan` of 10,000 objects was
// ~0.25 s quicker from its second run in paired runs, within the noise of the bench's, docs/engine.md "Start-up"),
// the others' as a few chunks instead of every module's (about half the CPU; the one file cost `--version` ~90 ms
// more CPU, ~40 ms more time, even with its cache); then build/.
const CODE_CACHED = ['serve', 'validate', 'plan'];
if (CODE_CACHED.includes(process.argv[2]) && isFresh('build/bundle/serve.cjs')) {
  const { runBundle } = await import('./run-bundle.js');
  runBundle(fileURLToPath(new URL('build/bundle/serve.cjs', root)), { shipped: fileURLToPath(new URL('build/code-cache/', root)) });
} else if (isFresh('build/bundle/main.js')) {
  await import('../build/bundle/main.js');
} else if (isFresh('build/cli/main.js')) {
  await import('../build/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
