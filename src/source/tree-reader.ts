// Reads the files a revision is loaded and built from (YAML, kustomize's extension-less `Kustomization`,
// `.sourceignore`), incrementally: only the subtrees and blobs whose oid changed since the last read.
import git from 'isomorphic-git';
import type { GitFs } from './git-fs.ts';
import { byPath, lowerBound } from '../model/file-changes.ts';
import type { ReadOptions, SourceFile } from './revision.ts';
import type { Issue } from '../model/issue.ts';
import { SourceError, describe } from './errors.ts';
import { decodeText, type FileProblem } from './decode-text.ts';
import { DEFAULT_MAX_MANIFEST_FILES, tooManyFiles } from './manifest-limit.ts';
import { loosePath, readLooseBlob } from './loose-object.ts';
import { Packs, type PackIndexes } from './pack-object.ts';
import { catFileBlobs } from './cat-file.ts';
import { listTrees, type TreeEntry } from './ls-tree.ts';
import { TimeSlice } from '../model/time-slice.ts';
import { intern } from '../model/intern.ts';

export interface ReadStats {
  /** tree objects read */
  treesRead: number;
  /** blobs whose content was read */
  blobsRead: number;
  /** of those, blobs git read (many at once: cat-file.ts) */
  blobsFromGit: number;
  /** of the trees, those git listed (a first read's, at once: ls-tree.ts) */
  treesFromGit: number;
}

/** One folder as last read: its tree oid and every file read below it. Unchanged folders are reused whole. */
interface Folder {
  oid: string;
  files: SourceFile[];
  /** Its own files (not its subfolders'). */
  own: SourceFile[];
  /** Warnings for this folder and those below it. */
  warnings: Issue[];
  children: Map<string, Folder>;
}

/** Manifests, and what decides how they load. Other inputs of a kustomize build are exported when it runs. */
export const READ = /(?:\.ya?ml|(?:^|\/)Kustomization|(?:^|\/)\.sourceignore)$/;
const SYMLINK_MODE = '120000';
/** Blob contents by oid, from the last read. */
type Text = { content: string; problem?: FileProblem };
interface Known { get(oid: string): Text | undefined; set(oid: string, text: Text): void; offer(files: SourceFile[]): void }
const NOTHING_KNOWN: Known = { get: () => undefined, set: () => {}, offer: () => {} };

/**
 * Blobs a read need not read, by oid (blobs are content-addressed: a file moved or renamed keeps its oid): those it
 * read, and the files of the last read's folders it found changed (their own files) or gone (all of theirs), as
 * they are found. Not every file of the last read: a map of 10,000 made for the one new blob of a one-file commit
 * was half its read.
 */
class KnownBlobs implements Known {
  private readonly byOid = new Map<string, Text>();
  private offered: SourceFile[][] = [];
  get(oid: string): Text | undefined {
    for (const files of this.offered) for (const f of files) if (!this.byOid.has(f.oid)) this.byOid.set(f.oid, f);
    this.offered = [];
    return this.byOid.get(oid);
  }
  set(oid: string, text: Text): void {
    this.byOid.set(oid, text);
  }
  offer(files: SourceFile[]): void {
    if (files.length) this.offered.push(files);
  }
}
/**
 * One read's walk: manifest files listed so far under `dir` (where it started), and the folders still being listed.
 * Blobs are read once every tree is listed and counted, so a revision over the limit is refused having read no blob;
 * `wanted`, the blobs to read, then go to git at once when there are many (`batch`).
 */
interface Tally {
  files: number; dir: string; listing: number; listed: Promise<void>; allListed: () => void; failed?: Error;
  wanted: Set<string>; batch?: Promise<Map<string, Uint8Array> | undefined>;
  /** The read's trees, where git listed them (ls-tree.ts). */
  trees?: Map<string, TreeEntry[]>;
}
function newTally(dir: string): Tally {
  let allListed!: () => void;
  const listed = new Promise<void>((resolve) => (allListed = resolve));
  return { files: 0, dir, listing: 0, listed, allListed, wanted: new Set() };
}

/**
 * Blobs and trees read at once. One at a time, a cold read of 10,000 files was 60,000 round trips to libuv's
 * thread pool one after another (open, stat, read, close, hash): seconds of waiting on a busy machine.
 */
const PARALLEL = 16;
/** Most ms of synchronous blob reads between two turns of the event loop. */
const PACE_MS = 10;
/**
 * Fewest blobs to read that are asked of `git cat-file` at once (cat-file.ts): below, a spawn costs more than reading
 * them here (a one-file commit's read stays in this process).
 */
export const BATCH_MIN = 256;

export class TreeReader {
  readonly stats: ReadStats = { treesRead: 0, blobsRead: 0, blobsFromGit: 0, treesFromGit: 0 };
  private running = 0;
  private waiting: (() => void)[] = [];
  /** The last tree read: the base of the next, incremental, read. */
  private last?: Folder;
  private lastWarnings: Issue[] = [];

  /** The packs' blobs, read by our own reader: one Packs a read, closed at its end (a gc may remove a pack). */
  private packs?: Packs;
  private readonly packIndexes: PackIndexes = new Map();

  /**
   * `cache` is isomorphic-git's cache object (parsed pack indexes), shared by all reads of one repository; `fs` how
   * it reads the repository (gitFs).
   */
  constructor(private gitdir: string, private cache: object, private readonly fs: GitFs, private maxFiles = DEFAULT_MAX_MANIFEST_FILES) {}

  /** Warnings of the last tree read: submodules not followed, names that differ only in case. */
  warnings(): Issue[] {
    return this.lastWarnings;
  }

  /** Commit `sha`, read as the trees are (a loose one at once). */
  async commit(sha: string) {
    this.fs.forgetPacks(); // a fetch or gc since the last read may have changed them
    return (await git.readCommit({ fs: this.fs, gitdir: this.gitdir, oid: sha, cache: this.cache })).commit;
  }

  /** oid of the tree at `dir` (repo-relative, '' = root) inside `rootTree`. */
  async treeAt(rootTree: string, dir: string): Promise<string> {
    this.fs.forgetPacks();
    let oid = rootTree;
    let walked = '';
    for (const name of dir.split('/').filter(Boolean)) {
      const entries = await this.readTree(oid, walked);
      walked = walked ? `${walked}/${name}` : name;
      const entry = entries.find((e) => e.path === name);
      if (entry?.type !== 'tree') throw new SourceError('PathNotFound', `path '${walked}' is ${entry ? 'not a directory' : 'missing'}`);
      oid = entry.oid;
    }
    return oid;
  }

  /** `*.yaml`, `*.yml`, `Kustomization` and `.sourceignore` files in `tree`, which sits at `dir` in the repository; sorted by path. */
  async files(tree: string, dir: string, opts: ReadOptions = {}): Promise<SourceFile[]> {
    this.fs.forgetPacks(); // a fetch or gc since the last read may have changed them
    const packs = (this.packs = new Packs(this.gitdir, this.packIndexes));
    try {
      return await this.readFiles(tree, dir, opts);
    } finally {
      packs.close(); // reads of this one still under way (after one failed) find no pack: nothing is reopened
    }
  }

  private async readFiles(tree: string, dir: string, opts: ReadOptions): Promise<SourceFile[]> {
    // Manifest files of this read, counted as their trees are listed.
    const tally = newTally(dir);
    // A walk of every tree (no last read whose folders it reuses): listed by git at once where it can (ls-tree.ts).
    if (opts.unread || !this.last) tally.trees = await listTrees(this.gitdir, tree);
    return this.walk(tree, dir, tally, opts);
  }

  private async walk(tree: string, dir: string, tally: Tally, opts: ReadOptions): Promise<SourceFile[]> {
    // Files left unread are no base for the next read, which would take their missing content as read.
    if (opts.unread) {
      const read = await this.folder(tree, dir, undefined, NOTHING_KNOWN, tally, opts);
      this.lastWarnings = read.warnings;
      return read.files;
    }
    const last = this.last;
    const known = new KnownBlobs();
    const folder = await this.folder(tree, dir, last, known, tally, opts);
    this.last = folder;
    this.lastWarnings = folder.warnings;
    return folder.files;
  }

  /**
   * Reads the folder at `dir` unless `prev` (the same folder, last read) has the same oid. Only folders on the
   * path to a change are listed again, and only changed blobs are read.
   */
  private async folder(oid: string, dir: string, prev: Folder | undefined, known: Known, tally: Tally, opts: ReadOptions): Promise<Folder> {
    if (prev?.oid === oid) return this.count(tally, prev.files.length), prev;
    tally.listing++;
    const children = new Map<string, Folder>();
    const files: SourceFile[] = [];
    const warnings: Issue[] = [];
    const warn = (file: string, message: string) => warnings.push({ severity: 'warning', file, line: 1, column: 1, message });
    const entries = await this.readTree(oid, dir, tally.trees);
    // What a file of this read may have been before (moved within it, or from a folder now gone).
    if (prev) {
      known.offer(prev.own);
      const trees = new Set(entries.filter((e) => e.type === 'tree').map((e) => e.path));
      for (const [name, child] of prev.children) if (!trees.has(name)) known.offer(child.files);
    }
    // On a case-insensitive file system (macOS, Windows) a checkout writes both to one file.
    const folded = new Map<string, string>();
    for (const entry of entries) {
      const path = dir ? `${dir}/${entry.path}` : entry.path;
      const other = folded.get(entry.path.toLowerCase());
      if (other !== undefined) warn(path, `'${other}' and '${path}' differ only in case: a checkout on a case-insensitive file system keeps only one of them`);
      else folded.set(entry.path.toLowerCase(), path);
      // Argo CD and Flux do not fetch submodules by default either; say so rather than skip them silently.
      if (entry.type === 'commit') warn(path, `'${path}' is a git submodule (commit ${entry.oid.slice(0, 7)}): submodules are not fetched, its manifests are not applied`);
    }
    this.count(tally, entries.filter((e) => e.type === 'blob' && READ.test(e.path)).length);
    // Subfolders and blobs read side by side (at most PARALLEL at a time); the result is in entry order as before.
    const reads = entries.map(async (entry) => {
      const path = dir ? intern(`${dir}/${entry.path}`) : entry.path;
      if (entry.type === 'tree') return { name: entry.path, child: await this.folder(entry.oid, path, prev?.children.get(entry.path), known, tally, opts) };
      // Submodules (type 'commit', warned about above) and other files are not read.
      if (entry.type !== 'blob' || !READ.test(entry.path)) return undefined;
      const symlink = entry.mode === SYMLINK_MODE;
      if (!symlink && opts.unread?.(path, entry.oid)) return { file: { path, oid: entry.oid, symlink, content: '', unread: true as const } };
      // The same blob at the same path as the last read: the very same file (the loader keeps what it made of it by it).
      const had = prev?.files[lowerBound(prev.files, path)];
      const same = had && had.path === path && had.oid === entry.oid && had.symlink === symlink ? had : undefined;
      if (!same && known.get(entry.oid) === undefined) {
        tally.wanted.add(entry.oid);
        if (!symlink) opts.onListed?.(path, entry.oid);
      }
      await tally.listed;
      if (tally.failed) throw tally.failed;
      if (same) return { file: same };
      const read = known.get(entry.oid) === undefined;
      const file: SourceFile = { path, oid: entry.oid, symlink, ...(await this.content(entry.oid, path, known, tally.batch)) };
      if (read) opts.onRead?.(file);
      return { file };
    });
    // Listed, and every subfolder's listing begun (each counts itself in before its first await).
    if (--tally.listing === 0) {
      if (!tally.failed && tally.wanted.size >= BATCH_MIN) tally.batch = catFileBlobs(this.gitdir, [...tally.wanted]);
      tally.allListed();
    }
    const read = await Promise.all(reads);
    // In entry order, each subfolder's files sorted already: in path order but where two pieces meet out of it (git
    // orders a folder's entries by bytes, paths here are compared by UTF-16 units). Sorting every time was most of a
    // one-file commit's read at 10,000 files (~5 ms).
    let ordered = true;
    const own: SourceFile[] = [];
    for (const r of read) {
      if (r?.file) own.push(r.file);
      if (r?.child) {
        children.set(r.name, r.child);
        for (const w of r.child.warnings) warnings.push(w);
      }
      const piece = r?.child ? r.child.files : r?.file ? [r.file] : undefined;
      if (!piece?.length) continue;
      if (files.length && byPath(files[files.length - 1], piece[0]) > 0) ordered = false;
      for (const f of piece) files.push(f);
    }
    return { oid, files: ordered ? files : files.sort(byPath), own, warnings, children };
  }

  private count(tally: Tally, files: number): void {
    tally.files += files;
    if (tally.files > this.maxFiles) throw (tally.failed ??= tooManyFiles(tally.dir, this.maxFiles));
  }

  /** `listed`: the trees git listed for the read under way (ls-tree.ts), by oid. */
  private async readTree(oid: string, path: string, listed?: Map<string, TreeEntry[]>): Promise<readonly TreeEntry[]> {
    const known = listed?.get(oid);
    const tree = known ?? (await this.slot(() => corrupt(`tree ${oid} at '${path || '/'}'`, () => git.readTree({ fs: this.fs, gitdir: this.gitdir, oid, cache: this.cache })))).tree as TreeEntry[];
    this.stats.treesRead++;
    if (known) this.stats.treesFromGit++;
    return tree;
  }

  /** `batch`: blobs git read (cat-file.ts); those it did not are read here. */
  private async content(oid: string, path: string, known: Known, batch?: Promise<Map<string, Uint8Array> | undefined>): Promise<Text> {
    let text = known.get(oid);
    if (text === undefined) {
      const batched = (await batch)?.get(oid);
      if (batched) {
        this.stats.blobsFromGit++;
        // Checked right before the decoding (the batch resumes every read at once): at most a slice of them a turn.
        while (this.slice.over) await this.slice.next();
      }
      const blob = batched ?? await this.slot(() => corrupt(`blob ${oid} at '${path}'`, async () => {
        await this.slice.yield();
        return this.blob(oid);
      }));
      this.stats.blobsRead++;
      text = known.get(oid) ?? decodeText(blob); // the same blob may have been read meanwhile at another path
      known.set(oid, text);
    }
    return text.problem ? { content: text.content, problem: text.problem } : { content: text.content };
  }

  /**
   * Blob `oid`: packed first (a clone is; a lookup in the index is a binary search, a loose file's absence an
   * exception), then loose, then isomorphic-git's reader. A damaged packed copy is said only when there is no loose
   * one either.
   */
  private async blob(oid: string): Promise<Uint8Array> {
    let damaged: unknown;
    try {
      const packed = this.packs?.readBlob(oid);
      if (packed) return packed;
    } catch (e) {
      damaged = e;
    }
    const loose = readLooseBlob(this.gitdir, oid);
    if (loose) return loose;
    if (damaged) throw damaged;
    return this.readPacked(oid);
  }

  /**
   * A blob found neither in the packs nor loose (a gc packed it during the read, or a pack our reader leaves to
   * isomorphic-git); a miss lists the packs again.
   */
  private async readPacked(oid: string): Promise<Uint8Array> {
    const read = () => {
      this.fs.absent.add(loosePath(this.gitdir, oid));
      return git.readBlob({ fs: this.fs, gitdir: this.gitdir, oid, cache: this.cache });
    };
    try {
      return (await read()).blob;
    } catch {
      this.fs.absent.delete(loosePath(this.gitdir, oid));
      this.fs.forgetPacks();
      return (await git.readBlob({ fs: this.fs, gitdir: this.gitdir, oid, cache: this.cache })).blob;
    }
  }

  /**
   * Loose blobs are read synchronously (cheaper than libuv's pool); a cold read of 10,000 would hold the event loop
   * for a second. Every few ms of it the loop turns once, so the API and timers keep answering.
   */
  private readonly slice = new TimeSlice(PACE_MS);

  /** Runs one object read when fewer than PARALLEL are under way. */
  private async slot<T>(read: () => Promise<T>): Promise<T> {
    while (this.running >= PARALLEL) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await read();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** A missing or unreadable object (deleted file, bad zlib data, wrong type) is a CorruptObject naming it. */
async function corrupt<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw new SourceError('CorruptObject', `cannot read ${what}: ${describe(e)}`, { cause: e });
  }
}
