// Runs a CommonJS bundle of build/ (scripts/prepare.mjs: build/bundle/serve.cjs) with V8's code cache: the compiled
// code of what the command ran last time, so a start compiles almost nothing (issue 13: after `kill -9`, the new
// serve's modules are most of its start). Node 20 has no module.enableCompileCache, and V8 caches only a script
// compiled through vm.Script with cachedData, so the bundle is run here as node would require it. The cache is a
// file per bundle, node and command in $XDG_CACHE_HOME/convergit/code/ (~/.cache by default; CONVERGIT_CODE_CACHE
// names another folder, empty turns it off), written (temporary file, rename) only when there was none or V8
// refused it: by serve a few seconds after it is up (src/cli/code-cache.ts), else as the process exits, if its
// command's action ran. Where the user's folder has none, the cache `npm install` built beside the bundle
// (`shipped`: scripts/train-code-cache.mjs) is used, so a fresh install's first validate, plan or serve compiles no
// more than its later ones; that run still writes the user's cache, of what it ran.
// docs/engine.md, "Start-up".
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

const KEEP = 12; // cache files kept: a few commands of a few bundles (worktrees, upgrades)

/** The cache file's name for `file` run as `command`: V8 checks a cache against the source's length only, so it names the file's version and what compiles it. */
export function cacheName(file, command) {
  const s = statSync(file);
  return `${hashed([file, s.size, s.mtimeMs, s.ino])}-${command}.bin`;
}

/**
 * The shipped cache's name: by the bundle's text (hashed only when the user's folder has none), so an install in
 * another folder, a copied build or a tarball's reset times still find it.
 */
export function shippedName(source, command) {
  return `${hashed([source])}-${command}.bin`;
}

const hashed = (parts) => createHash('sha256').update([...parts, process.version, process.arch, process.execArgv.join(' ')].join('\0')).digest('hex').slice(0, 16);

/** `shipped`: the folder of the cache built with the bundle, read when the user's folder has none. */
export function runBundle(file, { shipped } = {}) {
  const source = readFileSync(file, 'utf8');
  const off = process.env.CONVERGIT_CODE_CACHE === '';
  const dir = off ? undefined : cacheDir();
  const command = /^[a-z][a-z-]*$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
  const cacheFile = dir && path.join(dir, cacheName(file, command));
  let cachedData, fromBuild = false;
  try { if (cacheFile) cachedData = readFileSync(cacheFile); } catch { /* none yet */ }
  // Also where the user's folder cannot be named (no home): read only.
  if (!cachedData && !off && shipped) {
    try { cachedData = readFileSync(path.join(shipped, shippedName(source, command))); fromBuild = true; } catch { /* not built, or for another node */ }
  }
  // V8 flushes the bytecode of a function not run in its last 5 full collections, and a cache holds only what is
  // compiled when it is made: made after a 10,000-object start's collections (at exit, or serve's quiet second), it
  // lacked the modules' own code, and the next start compiled it again (serve's modules step 0.41 s as without a cache,
  // against 0.29 s with one made while the bytecode was kept). So flushing is off from the compile until the cache is
  // written, or at once when none is to be written. Set before the compile, as V8 checks a cache against the flags;
  // not where the user set flushing themselves (a node flag, CONVERGIT_V8_FLAGS).
  const flushing = !off && ![...process.execArgv, process.env.CONVERGIT_V8_FLAGS ?? ''].some((a) => /--(no-)?flush[-_]bytecode/.test(a));
  if (flushing) v8.setFlagsFromString('--no-flush-bytecode');
  const script = new vm.Script(Module.wrap(source), {
    filename: file, cachedData,
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER, // import() of node's own modules, as in a required file
  });
  let save = cacheFile && (!cachedData || fromBuild || script.cachedDataRejected);
  // What became of the cache, for serve's start line (src/cli/start-timings.ts).
  globalThis[Symbol.for('convergit.codeCacheState')] = !cachedData ? (cacheFile ? 'none' : 'off')
    : `${script.cachedDataRejected ? 'refused' : 'used'}${fromBuild ? ' (shipped)' : ''}`;
  if (!save && flushing) v8.setFlagsFromString('--flush-bytecode');
  if (cachedData && !save) try { utimesSync(cacheFile, new Date(), new Date()); } catch { /* read-only: still used */ }
  const write = () => {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
      prune(dir);
    } catch { /* a cache is an optimisation: without it the next start compiles */ }
  };
  /**
   * Writes the cache if this run needs one: the compiled code of every function run so far, under V8's flags as they
   * were at the load (src/cli/v8-flags.ts, when serve has changed some: V8 refuses a cache made under flags that hash
   * otherwise), at exit too.
   */
  const saveCodeCache = () => {
    if (!save) return;
    save = false;
    const asLoaded = globalThis[Symbol.for('convergit.withFlagsAsLoaded')];
    if (typeof asLoaded === 'function') asLoaded(write);
    else write();
    if (flushing) v8.setFlagsFromString('--flush-bytecode'); // written: what is not run any more may go
  };
  globalThis[Symbol.for('convergit.saveCodeCache')] = saveCodeCache;
  // At exit only for a run that got to its work (the command's action: src/cli/code-cache.ts): a `--help`, a typo or
  // a refused option compiled only the start, and that cache would be kept (one V8 accepts is not written again)
  // until the bundle changes.
  globalThis[Symbol.for('convergit.saveCodeCacheAtExit')] = () => { process.removeListener('exit', saveCodeCache); process.once('exit', saveCodeCache); };
  const module = new Module(file);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
}

function cacheDir() {
  const env = process.env.CONVERGIT_CODE_CACHE;
  try {
    return env ?? path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'convergit', 'code');
  } catch {
    return undefined; // no home (a user without a passwd entry, HOME unset): no cache, as for an empty setting
  }
}

/** Keeps the files used last (a use touches its file), and removes temporary files a killed writer left. */
function prune(dir) {
  const files = readdirSync(dir).map((name) => {
    try { return { name, mtime: statSync(path.join(dir, name)).mtimeMs }; } catch { return undefined; }
  }).filter(Boolean);
  const old = Date.now() - 3600_000;
  const caches = files.filter((f) => f.name.endsWith('.bin')).sort((a, b) => b.mtime - a.mtime);
  for (const f of [...caches.slice(KEEP), ...files.filter((f) => f.name.endsWith('.tmp') && f.mtime < old)]) {
    try { unlinkSync(path.join(dir, f.name)); } catch { /* another process removed it */ }
  }
}
