// Compiled validators kept on disk as ajv standalone code (ajv/dist/standalone), so that a restarted serve, or
// `validate` and `plan`, load a kind's validator instead of compiling the Kubernetes schemas again: compiling
// Deployment's (the whole PodSpec) costs ~0.3 s of CPU alone and several seconds on a loaded machine; loading
// its generated code costs milliseconds. One folder per schema document: its name is a hash of the converted
// document, ajv's version and FORMAT below, so a changed schema, rule or ajv never meets stale code.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';

/** Bump when the names the generated code reads from `helpers` change. */
const FORMAT = 'helpers-v1';

const require = createRequire(import.meta.url);
const AJV_VERSION: string = require('ajv/package.json').version;

/** Where validators are cached: $CONVERGIT_VALIDATOR_CACHE ('' turns the cache off), else the user's cache folder. */
export function validatorCacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CONVERGIT_VALIDATOR_CACHE !== undefined) return env.CONVERGIT_VALIDATOR_CACHE || undefined;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convergit', 'validators');
}

export class ValidatorCache {
  private folder: string | undefined | null = null; // null: not computed yet

  /** `document`: the schema document compiled (hashed once, on first use); `helpers`: what generated code reads. */
  constructor(private root: string | undefined, private document: () => unknown, private helpers: object) {}

  private dir(): string | undefined {
    if (this.folder === null) {
      const hash = createHash('sha256').update(`${FORMAT}\0${AJV_VERSION}\0`).update(JSON.stringify(this.document())).digest('hex');
      this.folder = this.root && path.join(this.root, hash.slice(0, 32));
    }
    return this.folder;
  }

  private file = (definition: string) => path.join(this.dir()!, `${definition}.cjs`);

  /** The cached validator of `definition`, or undefined (none yet, cache off, or unreadable: then it is compiled). */
  get(definition: string): ValidateFunction | undefined {
    if (!this.dir()) return undefined;
    let source: string;
    try {
      source = readFileSync(this.file(definition), 'utf8');
    } catch {
      return undefined;
    }
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
    if (!this.dir()) return;
    const file = this.file(definition);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir()!, { recursive: true });
      writeFileSync(tmp, source);
      renameSync(tmp, file);
    } catch {
      // A read-only or full disk only costs the next process a compile.
    }
  }
}
