import type { KubeObject } from '../model/object.ts';
import type { Issue } from '../model/issue.ts';
import type { DocPositions } from './positions.ts';

export interface ManifestFile {
  /** Path relative to the repository root. */
  path: string;
  content: string;
  symlink?: boolean;
  /** The git blob oid of `content`, when it comes from git: the cache keys on it instead of hashing the text. */
  oid?: string;
  /** Why the file cannot be loaded at all (set by the source, e.g. invalid UTF-8): an error at its position. */
  problem?: { line: number; column: number; message: string };
  /** Not read (content ''): preloadFile put this path and oid in the loader's memory from the load cache. */
  unread?: boolean;
}

/** A desired object with where it was written. */
export interface DesiredObject {
  object: KubeObject;
  file: string;
  line: number;
  column: number;
  /** Where each field of the object was written, for issues found after loading (e.g. git images). */
  positions: DocPositions;
}

/** A CustomResourceDefinition in the store: its kinds validate custom resources the commit has no CRD for. */
export interface AppliedCrd {
  object: KubeObject;
  /** Applied from git (in the inventory): a commit without it removes it. */
  fromGit: boolean;
}

/**
 * Loaded files kept by another process (src/build/load-cache.ts): by path, content, --strict and alias limit, each
 * a StoredFile (stored-file.ts). What `get` returns is checked before use; a bad entry is loaded again. It must be
 * a new value each time (parsed from text, as DiskLoadCache does): the loader keeps it and writes into it.
 */
export interface LoadCache {
  get(key: string): unknown;
  /** Whether `get` would find an entry (not checked): no JSON read. */
  has?(key: string): boolean;
  /**
   * `json`: `value` is the entry's JSON text already (a parse worker's), not to be serialised again; `lazy`: `value`
   * is a function making the entry, called when it is written (it must give the same answer then).
   */
  set(key: string, value: unknown, opts?: { json?: boolean; lazy?: boolean }): void;
  /** Writes what was set (called after each load). */
  flush?(): Promise<void>;
  /**
   * Begins writing what was set so far (a delayed cache: what was set as text), keeping what was read for the rest of
   * the load: a cold load's parse workers take minutes of CPU between them, so the main thread, waiting for them,
   * writes their entries meanwhile (their JSON text, held until then, was ~10 MB of serve's heap at 10,000 files).
   */
  writeSoFar?(): void;
}

export interface LoadOptions {
  appliedCrds?: AppliedCrd[];
  /** Unimplemented-but-real Kubernetes fields become errors instead of warnings. */
  strict?: boolean;
  /** Host folders a hostPath volume may name (serve --allow-host-path); any other hostPath is an error. */
  allowHostPath?: string[];
  /** `--path`: files outside it are refused. '' means the whole repository. */
  root?: string;
  maxFileBytes?: number; // default 8 MiB
  maxTotalBytes?: number; // default 64 MiB
  maxAliases?: number; // default 100
  /**
   * Objects handed out are the loader's own, deep-frozen, and the same object for an unchanged document on every
   * load (the sync loop: it copies what it changes). Default: copies the caller may change.
   */
  shared?: boolean;
  /** Files loaded before, by this or another process: an unchanged one is neither parsed nor validated again. */
  cache?: LoadCache;
}

export interface LoadResult {
  /** Defaulted, validated objects; meaningful only when no issue has severity 'error'. */
  objects: DesiredObject[];
  /** Errors and warnings, sorted by file, line, column. */
  issues: Issue[];
}
