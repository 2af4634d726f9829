// Compiled validators kept on disk as ajv standalone code (ajv/dist/standalone), so that a restarted serve, or
// `validate` and `plan`, load a kind's validator instead of compiling the Kubernetes schemas again: compiling
// Deployment's (the whole PodSpec) costs ~0.3 s of CPU alone and several seconds on a loaded machine; loading
// its generated code costs milliseconds. One folder per schema document: its name is a hash of the converted
// document, ajv's version and FORMAT below, so a changed schema, rule or ajv never meets stale code.
// Pruned as a cache: each process touches its folder's mtime when it first uses it, and one that has to write
// (a new schema, ajv or convergit) keeps the KEEP folders used last and removes the others and stale temporary
// files. A folder is removed by renaming it away first (atomic), so no process ever sees half of one.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { writeFileWholeSync } from '../store/durable-file.ts';

/** Bump when the names the generated code reads from `helpers` change. */
const FORMAT = 'helpers-v1';

const require = createRequire(import.meta.url);
const AJV_VERSION: string = require('ajv/package.json').version;

/** Where validators are cached: $CONVERGIT_VALIDATOR_CACHE ('' turns the cache off), else the user's cache folder. */
export function validatorCacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CONVERGIT_VALIDATOR_CACHE !== undefined) return env.CONVERGIT_VALIDATOR_CACHE || undefined;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convergit', 'validators');
}

/** Where the package keeps validators compiled when it was built (`npm run prepare`); none when the cache is off. */
export function shippedValidatorRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.CONVERGIT_VALIDATOR_CACHE === '' ? undefined : fileURLToPath(new URL('../../build/validators', import.meta.url));
}

/** Hash folders kept: this version's, and those of a few others (a branch switched to and back, a downgrade). */
export const KEEP = 4;
/** A temporary file or folder this old was left by a process that died: no live writer takes this long. */
export const STALE_MS = 60 * 60_000;
const HASH = /^[0-9a-f]{32}$/;
const TRASH = /^\.removing-/;
/** The folder under a root that maps a hash of a document's inputs to the hash folder of the document. */
const INPUTS = 'inputs';

/** The hash folder an inputs file names, if it is one. */
function readPointer(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    const name = readFileSync(file, 'utf8').trim();
    return HASH.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes all but the `keep` most recently used hash folders under `root` (mtime: touched on use), and temporary
 * files and half-removed folders older than STALE_MS. Safe with other processes using or pruning at once: a
 * folder is first renamed to a unique `.removing-…` name (atomic: readers see it whole or not at all; of two
 * pruners one wins the rename), then deleted. Never throws: a cache that cannot be pruned still works.
 */
export function pruneValidatorCache(root: string, keep = KEEP, now = Date.now()): { removed: string[] } {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return { removed };
  }
  const mtime = (p: string) => { try { return statSync(p).mtimeMs; } catch { return undefined; } };
  const remove = (name: string) => {
    const trash = path.join(root, `.removing-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(path.join(root, name), trash);
    } catch {
      return; // gone already (another pruner), or not ours to move
    }
    removed.push(name);
    rmSync(trash, { recursive: true, force: true, maxRetries: 2 });
  };
  const folders = names.filter((n) => HASH.test(n)).map((name) => ({ name, used: mtime(path.join(root, name)) }))
    .filter((f): f is { name: string; used: number } => f.used !== undefined).sort((a, b) => b.used - a.used);
  for (const f of folders.slice(keep)) remove(f.name);
  for (const name of names.filter((n) => TRASH.test(n))) {
    const at = mtime(path.join(root, name)); // left by a pruner that died between its rename and its delete
    if (at !== undefined && now - at > STALE_MS) try { rmSync(path.join(root, name), { recursive: true, force: true }); removed.push(name); } catch { /* next time */ }
  }
  // Inputs files of removed folders: what would find them is gone.
  let pointers: string[] = [];
  try { pointers = readdirSync(path.join(root, INPUTS)); } catch { /* none */ }
  for (const name of pointers.filter((n) => HASH.test(n))) {
    const p = path.join(root, INPUTS, name), to = readPointer(p);
    if (to && mtime(path.join(root, to)) === undefined) try { rmSync(p, { force: true }); removed.push(`${INPUTS}/${name}`); } catch { /* next time */ }
  }
  for (const f of folders.slice(0, keep)) {
    let files: string[];
    try { files = readdirSync(path.join(root, f.name)); } catch { continue; }
    for (const file of files.filter((n) => n.endsWith('.tmp'))) {
      const p = path.join(root, f.name, file), at = mtime(p);
      if (at !== undefined && now - at > STALE_MS) try { rmSync(p, { force: true }); removed.push(`${f.name}/${file}`); } catch { /* next time */ }
    }
  }
  return { removed };
}

/** Writes `file` whole (a temporary file, renamed) or not at all; never throws. */
function writeWhole(file: string, text: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileWholeSync(file, text);
  } catch { /* a cache that cannot be written only costs time */ }
}

export class ValidatorCache {
  private folder: string | undefined | null = null; // null: not computed yet
  private touched = false;
  private pruned = false;

  /**
   * `document`: the schema document compiled (hashed once, on first use); `helpers`: what generated code reads;
   * `shipped`: a read-only root of validators compiled when the package was built (scripts/prepare.mjs), tried
   * when `root` has none, so that a fresh checkout or CI runner does not compile Deployment's schema either.
   * `inputs`: what the document is made of, cheap to read (files' bytes, the converting code): the folder found for
   * them is remembered under `<root>/inputs/`, so that a later process names its folder without building the
   * document (Kubernetes' 3 MB OpenAPI document parsed and converted: ~0.4 s of CPU on the event loop, at the first
   * commit with a manifest, in the middle of a running serve).
   */
  constructor(private root: string | undefined, private document: () => unknown, private helpers: object, private shipped?: string,
    private inputs?: () => (string | Buffer)[]) {}

  private dir(): string | undefined {
    if (this.folder === null) this.folder = this.root && path.join(this.root, this.folderName());
    return this.folder;
  }

  /** The hash folder's name: from an inputs file (this root's, else the shipped one's), else from the document. */
  private folderName(): string {
    const salt = `${FORMAT}\0${AJV_VERSION}\0`;
    let key: string | undefined;
    if (this.inputs) {
      const h = createHash('sha256').update(salt);
      for (const part of this.inputs()) h.update(part).update('\0');
      key = h.digest('hex').slice(0, 32);
      const known = readPointer(path.join(this.root!, INPUTS, key)) ?? readPointer(this.shipped && path.join(this.shipped, INPUTS, key));
      if (known) return known;
    }
    const name = createHash('sha256').update(salt).update(JSON.stringify(this.document())).digest('hex').slice(0, 32);
    if (key) writeWhole(path.join(this.root!, INPUTS, key), name);
    return name;
  }

  /** The cached validator of `definition`, or undefined (none yet, cache off, or unreadable: then it is compiled). */
  get(definition: string): ValidateFunction | undefined {
    const source = this.read(`${definition}.cjs`);
    if (source === undefined) return undefined;
    try {
      const module = { exports: undefined as unknown };
      new Function('module', 'require', 'helpers', source)(module, require, this.helpers);
      return typeof module.exports === 'function' ? module.exports as ValidateFunction : undefined;
    } catch {
      return undefined; // damaged: compiled again and overwritten
    }
  }

  /** Keeps `source` (standalone code) for the next process; written whole (temporary file, rename) or not at all. */
  put(definition: string, source: string): void {
    this.write(`${definition}.cjs`, source);
  }

  /** A file kept for this document (a validator's code, or what else is derived from the document): this root's, else the shipped one's. */
  read(file: string): string | undefined {
    if (!this.dir()) return undefined;
    this.touch();
    try {
      return readFileSync(path.join(this.dir()!, file), 'utf8');
    } catch {
      try {
        return readFileSync(path.join(this.shipped!, path.basename(this.dir()!), file), 'utf8');
      } catch {
        return undefined;
      }
    }
  }

  /** Keeps `text` as `file` of this document for the next process; written whole or not at all. */
  write(file: string, text: string): void {
    if (!this.dir()) return;
    // A read-only or full disk only costs the next process a compile; so does a pruner renaming the folder away.
    writeWhole(path.join(this.dir()!, file), text);
    this.touch();
    // Writing means a schema, ajv or convergit this cache had not seen: the moment old folders may have piled up.
    if (!this.pruned) {
      this.pruned = true;
      pruneValidatorCache(this.root!);
    }
  }

  /** Marks this folder used (its mtime), once per process, so pruning keeps the folders in use. */
  private touch(): void {
    if (this.touched) return;
    this.touched = true;
    const now = new Date();
    try { utimesSync(this.dir()!, now, now); } catch { /* not there yet, or read-only */ }
  }
}
