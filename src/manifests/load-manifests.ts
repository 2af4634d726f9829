// The manifests entry point: files of one revision → validated, defaulted desired objects and every issue,
// each with file, line, column, object and field. Pure: no I/O, input never modified.
import { jsonCopy } from '../model/json-copy.ts';
import { intern } from '../model/intern.ts';
import { createHash } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import type { Issue } from '../model/issue.ts';
import type { KubeObject } from '../model/object.ts';
import { crossObjectChecks } from './checks.ts';
import { keptIngresses } from './kept-ingresses.ts';
import { applyDefaults } from './defaults.ts';
import { issueAt, type LoadedDoc } from './doc.ts';
import { unknownField } from './fields.ts';
import { identify } from './identify.ts';
import { implementationViolations } from './implemented.ts';
import { normalizeDocument } from './normalize.ts';
import { resetCelReports, validateCustomResource } from './crd-schema.ts';
import { kindOfCrd } from '../model/custom-kinds.ts';
import { KINDS, type KindInfo } from '../model/kinds.ts';
import type { Violation } from './violation.ts';
import { byteLength, fileRefusal, limitsOf, totalRefusal, type Limits } from './limits.ts';
import { isCrdDoc, keptIssue, LoadState, type FilePart } from './load-state.ts';
import { inPathOrder } from '../model/file-changes.ts';
import { parseYaml } from './parse.ts';
import { restoreFile, storeFile, verdictObject, type RestoredFile, type StoredFile, type Verdict } from './stored-file.ts';
import { StringTable } from './string-table.ts';
import { ParsePool } from './parse-pool.ts';
import { toPointer, type Path } from './paths.ts';
import { metadataRules, objectRules } from './rules.ts';
import type { AppliedCrd, DesiredObject, LoadCache, LoadOptions, LoadResult, ManifestFile } from './types.ts';
import { validateObject } from './validate.ts';
import { volumeViolations } from './volume-rules.ts';
import { TimeSlice } from '../model/time-slice.ts';
import { compareText } from '../model/compare-text.ts';

const MANIFEST = /\.ya?ml$/i;

export function loadManifests(files: ManifestFile[], opts: LoadOptions = {}): LoadResult {
  try {
    return load(files, opts);
  } finally {
    strings = new StringTable(); // the load's: what it read is shared, what the next one reads is another's
  }
}

function load(files: ManifestFile[], opts: LoadOptions): LoadResult {
  const limits = limitsOf(opts);
  const strict = !!opts.strict;
  /** Files parsed by this load, for the cache of later processes (once their documents are checked). */
  const fresh: { key: string; file: CachedFile }[] = [];
  const context = opts.shared ? partContext(opts, limits) : undefined;
  try {
    // The sync loop's next load: made from the last one when only a few files changed. A load that is not shared
    // (its objects the caller's copies) leaves it be; another shared one (an API review's) takes its place, and
    // the next is made from that one's files, or whole.
    const last = context === undefined ? undefined : lastLoad;
    if (context !== undefined) lastLoad = undefined; // changed by next(): used once
    const next = last?.context === context ? last?.next(files, (file) => soloPart(file, opts, limits, context!, fresh), limits.maxTotalBytes) : undefined;
    if (next) {
      lastLoad = next;
      loadStats.fromLast++;
      return sorted(next.result(strict));
    }
    return loadAll(files, opts, limits, context, fresh);
  } finally {
    // Made when the cache writes them (serve: after the sync): the loader's documents and verdicts are not written into.
    for (const { key, file } of fresh) setLazily(opts.cache!, key, file);
  }
}

/** The last shared load, while every file it loaded had a part (FilePart): the base of the next one. */
let lastLoad: LoadState | undefined;
/** Loads made from the last one (tests). */
export const loadStats = { fromLast: 0 };

const sorted = (r: LoadResult): LoadResult => ({ objects: r.objects, issues: sortIssues(r.issues) });

/** Every file loaded. `context`: a shared load's (parts are made and kept). */
function loadAll(files: ManifestFile[], opts: LoadOptions, limits: Limits, context: string | undefined, fresh: { key: string; file: CachedFile }[]): LoadResult {
  const strict = !!opts.strict;
  const issues: Issue[] = [];
  const objects: DesiredObject[] = [];
  const identified: LoadedDoc[] = [];
  const kept = new Map<string, LoadedDoc>(); // first document of each kept kind
  const inOrder = sortedByPath(files);
  /** Each file loaded, in path order: its part of the last shared load, or its documents to check now. */
  const loaded: (FilePart | { file: ManifestFile; entry: CachedFile })[] = [];
  /** What can define custom kinds: the CustomResourceDefinition documents. */
  const crdDocs: LoadedDoc[] = [];
  /** Every file has a part: this load can be the base of the next. */
  let whole = context !== undefined;
  let total = 0;

  for (const file of inOrder) {
    const fileIssue = (message: string, line = 1, column = 1): Issue => ({ severity: 'error', file: file.path, line, column, message });
    // An unchanged file of the last shared load: its verdicts as they were, at the cost of this lookup.
    const part = context === undefined ? undefined : fileParts.get(file);
    if (part && part.context === context) {
      total += part.entry.utf8;
      const over = totalRefusal(total, limits);
      if (over) { issues.push(fileIssue(over)); whole = false; break; }
      part.entry.used = ++uses;
      const error = part.entry.error;
      if (error) issues.push(fileIssue(error.message, error.line, error.column));
      for (const doc of part.entry.docs) if (isCrdDoc(doc)) crdDocs.push(doc);
      loaded.push(part);
      continue;
    }
    whole &&= !file.problem && MANIFEST.test(file.path);
    // Before the name test: a Kustomization or .sourceignore that cannot be read refuses the commit too.
    if (file.problem) { issues.push(fileIssue(file.problem.message, file.problem.line, file.problem.column)); continue; }
    if (!MANIFEST.test(file.path)) continue;
    const bytes = file.unread ? heldFile(file, limits.maxAliases, strict).utf8 : byteLength(file);
    const refused = fileRefusal(file, opts.root ?? '', limits, bytes);
    if (refused) { issues.push(fileIssue(refused)); whole = false; continue; }
    total += bytes;
    const over = totalRefusal(total, limits);
    if (over) { issues.push(fileIssue(over)); whole = false; break; }

    const parsed = parsedFile(file, limits.maxAliases, strict, opts.cache, fresh);
    if (parsed.error) issues.push(fileIssue(parsed.error.message, parsed.error.line, parsed.error.column));
    for (const doc of parsed.docs) if (isCrdDoc(doc)) crdDocs.push(doc);
    loaded.push({ file, entry: parsed });
  }
  // Custom resources are validated against the CustomResourceDefinitions of the same commit, else applied ones.
  const crds = customKindsOf(crdDocs, opts.appliedCrds ?? []);
  // A CRD that redefines a built-in kind makes that kind's verdicts the CRD's: the last loads' parts are checked
  // again, and this load is no base for the next.
  // No path twice either: two copies of one file share their documents, one part could not be told from the other.
  whole &&= !crds.shadowsBuiltIn && inPathOrder(inOrder);
  resetCelReports();
  const parts: FilePart[] = [];
  for (const l of crds.shadowsBuiltIn ? loaded.map((l) => ({ file: l.file, entry: l.entry as CachedFile })) : loaded) {
    let part: FilePart | undefined = 'context' in l ? l : undefined;
    if (!part) {
      const { file, entry } = l as { file: ManifestFile; entry: CachedFile };
      const checked = checkedFile(file, entry, opts, crds, context);
      part = checked.part;
      if (part) fileParts.set(file, part);
      else {
        whole = false;
        for (const i of checked.issues) issues.push(i);
        for (const doc of checked.kept) if (!kept.has(doc.info!.kind)) kept.set(doc.info!.kind, doc);
        for (const doc of entry.docs) if (doc.kind) identified.push(doc);
        for (const o of checked.objects) objects.push(o);
        continue;
      }
    }
    if (whole) parts.push(part);
    for (const i of part.issues) issues.push(i);
    for (const doc of part.kept) if (!kept.has(doc.info!.kind)) kept.set(doc.info!.kind, doc);
    for (const doc of part.entry.docs) identified.push(doc);
    for (const o of part.objects) objects.push(o);
  }
  for (const [kind, doc] of kept) issues.push(keptIssue(kind, doc, strict));
  const state = whole ? LoadState.of(context!, inOrder, parts, objects) : undefined;
  issues.push(...(state ? state.crossIssues() : crossObjectChecks(identified))); // one index of the keys, not two
  issues.push(...keptIngresses(identified, strict));
  if (context !== undefined) lastLoad = state;
  // The state's entries are handed out again by the next load: callers get their own array (they replace entries).
  return { objects: whole ? objects.slice() : objects, issues: sortIssues(issues) };
}

/**
 * A file's documents checked, with CRDs `crds`: its part when `context` is a shared load's and every document is of
 * a built-in kind; otherwise what it adds to the load.
 */
function checkedFile(file: ManifestFile, entry: CachedFile, opts: LoadOptions, crds: CustomKinds, context: string | undefined) {
  const issues: Issue[] = [], objects: DesiredObject[] = [], kept: LoadedDoc[] = [];
  for (const doc of entry.docs) {
    const object = checkedDocument(doc, !!opts.strict, issues, crds, !!opts.shared);
    if (object && doc.info?.mode === 'kept') kept.push(doc);
    // Not cached with the document: the hostPath rule depends on the server's --allow-host-path.
    const volumeIssues = object && doc.kind ? volumeIssuesOf(doc, opts.allowHostPath ?? []) : [];
    for (const p of volumeIssues) issues.push(issueAt(doc, p.warning ? 'warning' : 'error', p.path, p.at, p.message));
    const loaded = object && !volumeIssues.some((p) => !p.warning) ? object : undefined;
    // Every field in the literal (no spread): one shape, fields in the object, as 10,000 are kept with their parts.
    const { line, column } = doc.positions.start;
    if (loaded) objects.push({ object: loaded, file: doc.file, line, column, positions: doc.positions });
  }
  const builtIn = entry.docs.every((d) => d.info && !d.info.custom);
  // Kept with the file: arrays of their exact length (a pushed one keeps room for 17: 1.5 MB at 10,000 files).
  const part: FilePart | undefined = context !== undefined && builtIn
    ? { context, file, entry, issues: issues.length ? issues.slice() : NO_ISSUES, objects: objects.slice(), kept: kept.length ? kept.slice() : NO_DOCS } : undefined;
  return { part, issues, objects, kept };
}

/**
 * A file's part on its own (the sync loop's next load, made from the last): undefined when it has none (a custom
 * resource, a kind not known, a refused file), and the whole load is run.
 */
function soloPart(file: ManifestFile, opts: LoadOptions, limits: Limits, context: string, fresh: { key: string; file: CachedFile }[]): FilePart | undefined {
  const memo = fileParts.get(file);
  if (memo && memo.context === context) return memo;
  if (file.problem || !MANIFEST.test(file.path)) return undefined;
  const strict = !!opts.strict;
  const bytes = file.unread ? heldFile(file, limits.maxAliases, strict).utf8 : byteLength(file);
  if (fileRefusal(file, opts.root ?? '', limits, bytes)) return undefined;
  const entry = parsedFile(file, limits.maxAliases, strict, opts.cache, fresh);
  // A CRD that comes may redefine a built-in kind: the whole load looks.
  if (entry.docs.some(isCrdDoc)) return undefined;
  // Built-in kinds only, none redefined (the last load's CRDs and the applied ones do not: LoadState), so what
  // the CRDs say does not count (checkedFile gives no part for a custom resource).
  const { part } = checkedFile(file, entry, opts, NO_CUSTOM_KINDS, context);
  if (part) fileParts.set(file, part);
  return part;
}

let fileParts = new WeakMap<ManifestFile, FilePart>();
const NO_ISSUES: readonly Issue[] = Object.freeze([]);
const NO_DOCS: readonly LoadedDoc[] = Object.freeze([]);

/**
 * What else a file's part depends on: the options a load was given, and the applied CRDs (one may redefine a
 * built-in kind; they change only when a sync applies a CRD, which a load then loads whole).
 */
const partContext = (opts: LoadOptions, limits: Limits) => JSON.stringify([opts.root ?? '', !!opts.strict, limits, opts.allowHostPath ?? [],
  (opts.appliedCrds ?? []).map((c) => [c.object.metadata.name, c.object.metadata.resourceVersion, c.fromGit])]);


/** The files by path; as given when they are in order already (a source lists them so). */
function sortedByPath(files: ManifestFile[]): ManifestFile[] {
  for (let i = 1; i < files.length; i++) if (compareText(files[i - 1].path, files[i].path) > 0) return [...files].sort((a, b) => compareText(a.path, b.path));
  return files;
}

interface CachedFile { docs: LoadedDoc[]; error?: { line: number; column: number; message: string }; strict: boolean; bytes: number; used: number; utf8: number }
type Checked = Verdict;

/**
 * Files already read, by path and content, so a commit costs what it changes: an unchanged file is neither parsed
 * nor validated again. Bounded by size, oldest first out. Built-in kinds only: a custom resource's verdict
 * depends on CRDs that may have changed, so it is checked every time.
 */
const cache = new Map<string, CachedFile>();
const checked = new WeakMap<LoadedDoc, Checked>();
/** The strings of what this load (its preload included) read, one per text. */
let strings = new StringTable();
let cachedBytes = 0;
let uses = 0;
const CACHE_BYTES = 128 * 1024 * 1024;

/** Forgets every file read (tests compare a cached load with a fresh one). */
export function clearLoadCache(): void {
  cache.clear();
  fileParts = new WeakMap();
  lastLoad = undefined;
  strings = new StringTable();
  cachedBytes = 0;
}

// A git blob's oid already names its content: no hash of 10,000 files' text per commit.
const makeKey = (file: ManifestFile, maxAliases: number) => intern(`${maxAliases}\0${file.path}\0${file.oid ? `oid:${file.oid}` : createHash('sha1').update(file.content).digest('hex')}`);
/**
 * Keys of files from git, by the file: a commit's unchanged files are the last one's objects (the source keeps the
 * folders that did not change), and the preload and the load both ask, so each of 10,000 keys was made and hashed
 * twice a commit. A file with no oid is keyed by its text, which may change: made each time.
 */
const keys = new WeakMap<ManifestFile, { key: string; maxAliases: number }>();
function keyOf(file: ManifestFile, maxAliases: number): string {
  if (!file.oid) return makeKey(file, maxAliases);
  const hit = keys.get(file);
  if (hit && hit.maxAliases === maxAliases) return hit.key;
  const key = makeKey(file, maxAliases);
  keys.set(file, { key, maxAliases });
  return key;
}
/** The load cache's key of a file: its memory key and --strict. */
const diskKeyOf = (key: string, strict: boolean) => `${key}\0${strict}`;

/** The load cache's entry for `file`, restored, when it has a good one for this very text. */
function restoredFromDisk(disk: LoadCache | undefined, key: string, strict: boolean, file: ManifestFile): RestoredFile | undefined {
  const restored = disk && restoreFile(disk.get(diskKeyOf(key, strict)), file.path, strings);
  return restored && restored.chars === file.content.length ? restored : undefined;
}

/** A file parsed here goes to the load cache made when the cache writes it, with the verdicts the load reached by then. */
const setLazily = (disk: LoadCache, diskKey: string, file: CachedFile) =>
  disk.set(diskKey, () => storeFile({ docs: file.docs, error: file.error, chars: file.bytes, bytes: file.utf8 }, (d) => checked.get(d)), { lazy: true });

/**
 * Puts the file at `path` with blob `oid`, as the load cache holds it, in the loader's memory; false when the cache
 * has no good entry for it. A source asks before reading a blob (ReadOptions.unread): true means the load will not
 * need its text.
 */
export function preloadFile(disk: LoadCache, path: string, oid: string, opts: Pick<LoadOptions, 'strict' | 'maxAliases'> = {}): boolean {
  const strict = !!opts.strict;
  const key = makeKey({ path, oid, content: '' }, limitsOf(opts).maxAliases);
  const hit = cache.get(key);
  if (hit && hit.strict === strict) return true;
  const restored = restoreFile(disk.get(diskKeyOf(key, strict)), path, strings);
  if (!restored) return false;
  remember(key, restored, strict);
  return true;
}

/** A file left unread: preloadFile put it in memory, and the cache is far from full, so it is still there. */
function heldFile(file: ManifestFile, maxAliases: number, strict: boolean): CachedFile {
  const hit = cache.get(keyOf(file, maxAliases));
  if (!hit || hit.strict !== strict) throw new Error(`internal error: ${file.path} was not read, and the loader does not hold it`);
  return hit;
}

function remember(key: string, restored: RestoredFile, strict: boolean): CachedFile {
  for (const [doc, verdict] of restored.verdicts) checked.set(doc, verdict);
  return store(key, { docs: restored.docs, error: restored.error, strict, bytes: restored.chars, used: ++uses, utf8: restored.bytes });
}

function parsedFile(file: ManifestFile, maxAliases: number, strict: boolean, disk: LoadCache | undefined, fresh: { key: string; file: CachedFile }[]): CachedFile {
  const key = keyOf(file, maxAliases);
  const hit = cache.get(key);
  if (hit && hit.strict === strict) {
    hit.used = ++uses; // stamped rather than moved to the end: 10,000 Map moves a commit added up
    return hit;
  }
  if (file.unread) return heldFile(file, maxAliases, strict);
  const restored = restoredFromDisk(disk, key, strict, file);
  if (restored) return remember(key, restored, strict);
  const entry = storeParsed(key, file, parsedDocs(file, maxAliases, strings), strict);
  if (disk) fresh.push({ key: diskKeyOf(key, strict), file: entry });
  return entry;
}

/** A file's text → its documents, as written (not checked yet); their strings from `strings` when given. */
function parsedDocs(file: ManifestFile, maxAliases: number, strings?: StringTable): { docs: LoadedDoc[]; error?: CachedFile['error'] } {
  const parsed = parseYaml(file.content, file.path, maxAliases);
  const docs: LoadedDoc[] = [];
  for (const { value, positions } of parsed.docs) {
    strings?.intern(value);
    // `kind: List` (what `kubectl get -o yaml` writes) holds objects: kubectl applies each item, and so do we.
    const v = value as any;
    if (v && v.kind === 'List' && v.apiVersion === 'v1' && Array.isArray(v.items)) {
      v.items.forEach((item: unknown, i: number) => docs.push({ file: file.path, value: normalizeDocument(item), positions: positions.within(['items', i]) }));
    } else docs.push({ file: file.path, value: normalizeDocument(value), positions });
  }
  // Held for as long as the file is: a copy of exact length, where the pushed array keeps room for 17 (1.3 MB at 10,000 files).
  return { docs: docs.slice(), error: parsed.error };
}

/** A file parsed here, into the memory cache. */
const storeParsed = (key: string, file: ManifestFile, { docs, error }: ReturnType<typeof parsedDocs>, strict: boolean) =>
  store(key, { docs, error, strict, bytes: file.content.length, used: ++uses, utf8: byteLength(file) });

/**
 * A file loaded on its own: parsed, and each document of a built-in kind checked and defaulted (its verdict);
 * custom resources are left to the whole load, which knows the commit's CRDs.
 */
function checkedOnItsOwn(file: ManifestFile, maxAliases: number, strict: boolean, strings?: StringTable) {
  const parsed = parsedDocs(file, maxAliases, strings);
  const verdicts = new Map<LoadedDoc, Verdict>();
  for (const doc of parsed.docs) {
    const issues: Issue[] = [];
    const object = loadDocument(doc, strict, issues, NO_CUSTOM_KINDS);
    if (doc.info && !doc.info.custom) verdicts.set(doc, { issues, object, kind: doc.kind, info: doc.info });
  }
  return { parsed, verdicts };
}

/** A file loaded on its own, as the load cache keeps it (StoredFile): what a parse worker (parse-pool.ts) does. */
export function storedFileOf(file: ManifestFile, maxAliases: number, strict: boolean): StoredFile {
  const { parsed: { docs, error }, verdicts } = checkedOnItsOwn(file, maxAliases, strict);
  return storeFile({ docs, error, chars: file.content.length, bytes: byteLength(file) }, (d) => verdicts.get(d));
}
const NO_CUSTOM_KINDS: CustomKinds = { kinds: [], crdOf: () => undefined, shadowsBuiltIn: false };

/**
 * Whether to parse in workers: '1' always (tests), '0' never (benches compare); unset, only when, beside the main
 * thread, a core and a half are idle. The workers cost CPU of their own (each starts node and loads the kinds and
 * validators, and a file's JSON is made there and read back here): on a machine whose cores are all busy that is
 * only more work. Since plain YAML parses ~4× quicker (plain-yaml.ts), a file's JSON read back costs the main thread
 * about half of loading it itself, so one worker beside it (2 cores) no longer paid: a 10,000-object serve reached
 * Synced in 3.18 s without against 3.32 s with (means of 6 alternated starts), with 1.3 s less CPU.
 */
export function workersWanted(setting: string | undefined, load = loadavg()[0], cores = availableParallelism()): boolean {
  if (setting === '1' || setting === '0') return setting === '1';
  return cores - 1 - load >= 1.5;
}

/** Fewer files than this to parse: the workers' start costs more than they save. */
const POOL_FROM = 200;
/** Files the workers loaded between two writes of the load cache while they work (~1.5 MB at 10,000 files). */
const WRITE_EVERY = 1000;
/** Most ms the main thread loads files before it takes the workers' answers. */
const TURN_MS = 10;

/**
 * Parses and checks, in worker threads, the files handed over (`add`: a cold read hands each blob over as it reads
 * it, so parsing overlaps reading) that neither the loader's memory nor the load cache holds, and puts them in the
 * loader's memory (and the load cache) as a cache hit would: the loadManifests that follows then gives the same
 * answer as without it, having parsed nothing. A cold load of 10,000 files spent most of its time parsing YAML on
 * the one thread (issue 14). The workers start once POOL_FROM files wait for them or are expected (expect(): the
 * source lists them before reading any); with fewer, or when no worker starts, the load parses them itself.
 */
export class Preload {
  private readonly limits: ReturnType<typeof limitsOf>;
  private readonly strict: boolean;
  private waiting: ManifestFile[] = [];
  /** Files expect() was told will come to be parsed. */
  private expected = 0;
  private pool?: ParsePool;
  private finished = false;
  private aborted = false;
  /** Files loaded, by the workers or the main thread. */
  loaded = 0;

  /** Not finished yet: a read may still hand it files (once finished, add() takes none). */
  get open(): boolean {
    return !this.finished;
  }

  /**
   * `files`: how many will be added, when known. `workersOnly`: the main thread does not load files itself while it
   * waits (tests of the workers' answers).
   */
  constructor(private readonly opts: LoadOptions = {}, private readonly files = Infinity, private readonly workersOnly = false) {
    this.limits = limitsOf(opts);
    this.strict = !!opts.strict;
  }

  /** Hands a file over; once finished, does nothing (a second read, plan's base: its own load preloads it). */
  add(file: ManifestFile): void {
    if (this.finished || file.problem || file.unread || !MANIFEST.test(file.path)) return;
    const key = keyOf(file, this.limits.maxAliases);
    if (this.held(key) || fileRefusal(file, this.opts.root ?? '', this.limits)) return; // a commit's unchanged files: only this lookup
    const restored = restoredFromDisk(this.opts.cache, key, this.strict, file);
    if (restored) return void remember(key, restored, this.strict);
    if (this.pool) return this.pool.add(file);
    this.waiting.push(file);
    if (this.waiting.length >= POOL_FROM) this.startPool();
  }

  /**
   * A file the source will read (ReadOptions.onListed): once POOL_FROM are coming that neither the loader's memory
   * nor the load cache holds, the workers start now, while the trees are still listed (a worker takes ~0.2 s to
   * start: without this, the first 0.4 s of a cold read's blobs waited for it).
   */
  expect(path: string, oid: string): void {
    if (this.finished || this.pool || !MANIFEST.test(path)) return;
    const key = makeKey({ path, oid, content: '' }, this.limits.maxAliases);
    if (this.held(key) || this.opts.cache?.has?.(diskKeyOf(key, this.strict))) return;
    if (++this.expected >= POOL_FROM) this.startPool();
  }

  /** What a source's read calls as it lists and reads (its ReadOptions `onListed` and `onRead`): expect(), then add(). */
  readonly hooks = {
    onListed: (path: string, oid: string) => this.expect(path, oid),
    onRead: (file: ManifestFile) => this.add(file),
  };

  /** The loader's memory holds the file loaded with this --strict. */
  private held(key: string): boolean {
    const hit = cache.get(key);
    return !!hit && hit.strict === this.strict;
  }

  /** Decided once: no workers now leaves every file to the load. */
  private startPool(): void {
    const waiting = this.waiting;
    this.waiting = [];
    if (!workersWanted(process.env.CONVERGIT_PARSE_WORKERS)) return void (this.finished = true);
    try {
      // One core is the main thread's: it reads the blobs (and plan the live state) meanwhile, then loads files too.
      this.pool = new ParsePool(this.limits.maxAliases, this.strict, (f, json) => this.done(f, json), { files: this.files, spare: this.workersOnly ? 0 : 1 });
    } catch (e) {
      // No worker (threads refused, a missing build file): the load parses them. '1': workers or fail (tests).
      this.finished = true;
      if (process.env.CONVERGIT_PARSE_WORKERS === '1') throw e;
      return;
    }
    for (const f of waiting) this.pool.add(f);
  }

  /**
   * Ends the workers at once, whatever they hold: the read or load they were for failed, and its error should not
   * wait seconds for them. What they loaded stays loaded. Nothing after finish().
   */
  abort(): void {
    this.finished = this.aborted = true;
    this.pool?.abort();
  }

  /**
   * Waits for the workers to load what they were given; the main thread, free now, meanwhile loads those no worker
   * was sent yet (on a 2-core machine one worker and the main thread: less CPU than two workers and an idle main
   * thread, each file's JSON made and read back costing a third of its parse). Returns how many files were loaded.
   */
  async finish(): Promise<number> {
    this.finished = true;
    if (this.aborted) return this.loaded;
    const slice = new TimeSlice(TURN_MS);
    for (let file; !this.workersOnly && (file = this.pool?.take());) {
      this.loadHere(file);
      // The workers' answers are taken between turns.
      if (slice.over) await slice.next();
    }
    await this.pool?.close().catch((e) => {
      // No worker (a missing build file, no threads): loadManifests parses what is left itself. '1': workers or fail (tests).
      if (process.env.CONVERGIT_PARSE_WORKERS === '1') throw e;
    });
    return this.loaded;
  }

  /** What a worker does (storedFileOf), kept as loadManifests keeps what it parses: no JSON made or read. */
  private loadHere(file: ManifestFile): void {
    const key = keyOf(file, this.limits.maxAliases);
    const { parsed, verdicts } = checkedOnItsOwn(file, this.limits.maxAliases, this.strict, strings);
    for (const [doc, v] of verdicts) checked.set(doc, { ...v, object: verdictObject(v.object, doc) });
    const entry = storeParsed(key, file, parsed, this.strict);
    if (this.opts.cache) setLazily(this.opts.cache, diskKeyOf(key, this.strict), entry);
    this.counted();
  }

  private done(file: ManifestFile, json: string): void {
    const key = keyOf(file, this.limits.maxAliases);
    const restored = restoreFile(JSON.parse(json), file.path, strings);
    if (!restored) return;
    remember(key, restored, this.strict);
    this.opts.cache?.set(diskKeyOf(key, this.strict), json, { json: true });
    this.counted();
  }

  private counted(): void {
    if (++this.loaded % WRITE_EVERY === 0) this.opts.cache?.writeSoFar?.();
  }
}

/** A Preload of `files` at once (a load whose files were not handed over as they were read). */
export async function preloadInWorkers(files: ManifestFile[], opts: LoadOptions = {}): Promise<number> {
  const preload = new Preload(opts, files.length);
  for (const file of files) preload.add(file);
  return preload.finish();
}

/** Into the memory cache, within its bound. */
function store(key: string, entry: CachedFile): CachedFile {
  const hit = cache.get(key);
  if (hit) cachedBytes -= hit.bytes;
  cache.set(key, entry);
  cachedBytes += entry.bytes;
  if (cachedBytes > CACHE_BYTES) {
    // Least recently used first out.
    for (const [k, old] of [...cache].sort((a, b) => a[1].used - b[1].used)) {
      if (cachedBytes <= CACHE_BYTES) break;
      cache.delete(k);
      cachedBytes -= old.bytes;
    }
  }
  return entry;
}

/**
 * loadDocument, remembered for documents of built-in kinds (their verdict depends only on their text and
 * --strict). The object handed out is a copy (later steps may write into it), or with `shared` the remembered
 * object itself, deep-frozen: the same object for the same document, commit after commit, so the steps after
 * (pinning, checksums, the plan) can tell an unchanged object by its identity and need not copy 10,000 of them.
 */
function checkedDocument(doc: LoadedDoc, strict: boolean, issues: Issue[], crds: CustomKinds, shared: boolean): KubeObject | undefined {
  const hit = checked.get(doc);
  // Not when a CRD of the load redefines its kind (identify() takes the CRD's): its verdict is the CRD's now.
  if (hit && !(crds.kinds.length && hit.info && crds.crdOf(hit.info))) {
    issues.push(...hit.issues);
    doc.kind = hit.kind;
    doc.info = hit.info;
    return hit.object && (shared ? hit.object : jsonCopy(hit.object));
  }
  const own: Issue[] = [];
  const object = loadDocument(doc, strict, own, crds);
  issues.push(...own);
  if (!doc.info || doc.info.custom) return object;
  // What is remembered is what is handed out: the object itself, or the document when all of it is equal.
  const kept = verdictObject(object, doc);
  checked.set(doc, { issues: own, object: kept, kind: doc.kind, info: doc.info });
  return kept && (shared ? kept : jsonCopy(kept));
}

/** Not part of a document's cached verdict (--allow-host-path is the server's), but remembered per its value. */
const volumeChecked = new WeakMap<LoadedDoc, { allow: string; issues: ReturnType<typeof volumeViolations> }>();
function volumeIssuesOf(doc: LoadedDoc, allowHostPath: string[]) {
  const allow = allowHostPath.join('\0');
  const hit = volumeChecked.get(doc);
  if (hit && hit.allow === allow && !doc.info?.custom) return hit.issues;
  const issues = volumeViolations(doc.kind!, doc.value, allowHostPath);
  volumeChecked.set(doc, { allow, issues });
  return issues;
}



/** Checks one document, appending its issues; returns the defaulted object when it has no error. */
function loadDocument(doc: LoadedDoc, strict: boolean, issues: Issue[], crds: CustomKinds): KubeObject | undefined {
  const name = doc.value?.metadata?.name;
  if (typeof name === 'string') doc.name = name;
  const identity = identify(doc.value, crds.kinds);
  if (Array.isArray(identity)) {
    for (const p of identity) issues.push(issueAt(doc, 'error', p.path, p.at, p.message));
    return undefined;
  }
  const { info, version } = identity;
  doc.kind = info.kind;
  doc.info = info;
  const def = info.definitions[version];
  const crd = info.custom ? crds.crdOf(info) : undefined;
  // A custom resource gets its CRD's defaults written in: into a copy, as the next commit's CRD may differ.
  const value = crd ? structuredClone(doc.value) : doc.value;
  const violations = [
    ...metadataRules(info, value),
    ...(def ? validateObject(def, value) : []),
    ...(def ? implementationViolations(def, value, info.mode === 'run', strict) : []),
    ...(crd ? crdViolations(crd, version, value) : []),
    ...objectRules(info.kind, value),
  ];
  const judged = violations.map((v) => ({ v, verdict: v.unknown && unknownField(v.unknown.name, v.unknown.implemented) }));
  // `containerport: 80` already says "did you mean containerPort?"; a second "containerPort is required" is noise.
  const suggested = new Set(judged.flatMap(({ v, verdict }) => (verdict?.suggestion ? [toPointer([...v.path.slice(0, -1), verdict.suggestion])] : [])));
  let ok = true;
  const ignored: Path[] = []; // warned-about fields, dropped from the loaded object
  for (const { v, verdict } of judged) {
    if (v.missing && suggested.has(toPointer(v.path))) continue;
    const severity = verdict ? 'error' : v.warning ? 'warning' : 'error';
    issues.push(issueAt(doc, severity, v.path, v.at, verdict?.message ?? v.message));
    if (severity === 'error') ok = false;
    else if (!v.keep) ignored.push(v.path);
  }
  if (!ok) return undefined;
  const object = applyDefaults(value as KubeObject, info.namespaced);
  for (const path of ignored) remove(object, path);
  return object;
}

interface CustomKinds {
  kinds: KindInfo[];
  crdOf(info: KindInfo): { crd: KubeObject; removed: boolean } | undefined;
  /** A CRD redefines a built-in kind (its group and kind): documents of that kind are checked against the CRD. */
  shadowsBuiltIn: boolean;
}

/**
 * The custom kinds a revision may use: those of its own CustomResourceDefinitions (read before any other
 * document is validated), then those of applied ones. An applied CRD that git owns but this commit no longer
 * has is `removed`: its resources in the commit would be deleted with it.
 */
function customKindsOf(committed: LoadedDoc[], applied: AppliedCrd[]): CustomKinds {
  const byKey = new Map<string, { crd: KubeObject; info: KindInfo; removed: boolean }>();
  const names = new Set(committed.map((d) => d.value?.metadata?.name));
  for (const a of applied) {
    const info = kindOfCrd(a.object);
    if (info) byKey.set(`${info.group}/${info.kind}`, { crd: a.object, info, removed: a.fromGit && !names.has(a.object.metadata.name) });
  }
  for (const d of committed) {
    const info = kindOfCrd(d.value as KubeObject);
    if (info) byKey.set(`${info.group}/${info.kind}`, { crd: d.value as KubeObject, info, removed: false });
  }
  return {
    kinds: [...byKey.values()].map((e) => e.info),
    crdOf: (info) => byKey.get(`${info.group}/${info.kind}`),
    shadowsBuiltIn: KINDS.some((k) => byKey.has(`${k.group}/${k.kind}`)),
  };
}

function crdViolations(c: { crd: KubeObject; removed: boolean }, version: string, value: Record<string, any>): Violation[] {
  if (c.removed) {
    return [{ path: ['kind'], at: ['kind'], message: `its CustomResourceDefinition ${c.crd.metadata.name} is removed by this commit, which would delete this resource: keep the CRD, or remove its resources too` }];
  }
  return validateCustomResource(c.crd, version, value);
}

/** Deletes the field at `path` (a real Kubernetes field convergit ignores). */
function remove(root: any, path: Path) {
  const parent = path.slice(0, -1).reduce((node, seg) => node?.[seg], root);
  if (parent && typeof parent === 'object') delete parent[path[path.length - 1]];
}


/** By file, line, column; stable, so issues at one place keep the order they were found in. */
export const sortIssues = (issues: Issue[]) =>
  [...issues].sort((a, b) => compareText(a.file, b.file) || a.line - b.line || a.column - b.column);
