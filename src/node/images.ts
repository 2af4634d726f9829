// Extracted `git:<dir>@<tree oid>` images under <dataDir>/images/<oid>: pulled once, shared, never half-written.
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePinnedGitImage, type GitImage } from '../model/git-image.ts';
import { coalesced } from './coalesced.ts';

export type { GitImage };

export interface ImageCacheOptions {
  dataDir: string;
  /** Writes the image's tree into `dest` (an empty folder). Wired to source/exportTree by the composition root. */
  pull: (ref: GitImage, dest: string) => Promise<void>;
}

/** Prefix of a pull in progress; such folders never count as images, and stale ones (a crash) are collected. */
const PARTIAL = '.pull-';
/** The least time between two collections asked for through collect(). */
const COLLECT_GAP_MS = 1000;

/**
 * Node reads the nearest package.json above a script to decide whether `.js` is CommonJS or an ES module. A data
 * folder inside a project with `"type": "module"` (the default `.convergit` of this very repository) would turn an
 * image's CommonJS app into an ES module that cannot `require`. An empty package.json at the images' root stops
 * that lookup: what surrounds the data folder is not part of any image.
 */
const BOUNDARY = 'package.json';
const BOUNDARY_TEXT = '{ "//": "convergit: images are not part of the project holding the data folder" }\n';

export class ImageCache {
  /** Pulls in progress by oid: concurrent ensure() calls for one image share one pull. */
  private pulls = new Map<string, Promise<string>>();
  readonly root: string;

  constructor(private opts: ImageCacheOptions) {
    this.root = join(opts.dataDir, 'images');
  }

  /** `git:<dir>@<tree oid>` → its parts; undefined for any other image (those run from the host). */
  parse(image: string): GitImage | undefined {
    return parsePinnedGitImage(image);
  }

  /** The image's folder, pulling it first if needed. Rejects with `Failed to pull image "…": …`. */
  ensure(image: string): Promise<string> {
    const ref = this.parse(image);
    if (!ref) return Promise.reject(new Error(`Failed to pull image ${JSON.stringify(image)}: not a git image (git:<dir>@<tree oid>)`));
    let pull = this.pulls.get(ref.oid);
    if (!pull) {
      pull = this.extract(image, ref).finally(() => this.pulls.delete(ref.oid));
      this.pulls.set(ref.oid, pull);
    }
    return pull;
  }

  /** Collections asked for meanwhile share one run (of the newest ask's `inUse`), begun a second after the last. */
  private readonly collector = coalesced(async () => { await this.gc(await this.inUse!()); }, COLLECT_GAP_MS);
  private inUse?: () => Promise<Iterable<string>>;

  /**
   * gc() of what `inUse` reads when it runs, coalesced: at most one collection at a time and one a second, however
   * many nodes and pods ask (each finished pod does, and reading every pod per ask was quadratic in a big deletion).
   * Resolves once a collection begun after the call has ended; rejects with its failure.
   */
  collect(inUse: () => Promise<Iterable<string>>): Promise<void> {
    this.inUse = inUse;
    return this.collector();
  }

  /**
   * Removes every extracted image not in `inUse`, and leftovers of interrupted pulls; returns the removed oids.
   * `inUse` must list the images of every container that may still start, not only of running ones.
   */
  async gc(inUse: Iterable<string>): Promise<string[]> {
    const keep = new Set<string>();
    for (const image of inUse) {
      const oid = this.parse(image)?.oid;
      if (oid) keep.add(oid);
    }
    const removed: string[] = [];
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      if (name === BOUNDARY) continue;
      if (name.startsWith(PARTIAL)) {
        const oid = name.slice(PARTIAL.length, name.lastIndexOf('-'));
        if (!this.pulls.has(oid)) await rm(join(this.root, name), { recursive: true, force: true });
      } else if (!keep.has(name) && !this.pulls.has(name)) {
        await rm(join(this.root, name), { recursive: true, force: true });
        removed.push(name);
      }
    }
    return removed.sort();
  }

  private async extract(image: string, ref: GitImage): Promise<string> {
    const dest = join(this.root, ref.oid);
    if (await isDir(dest)) return dest;
    await mkdir(this.root, { recursive: true });
    await writeFile(join(this.root, BOUNDARY), BOUNDARY_TEXT, { flag: 'wx' }).catch((e) => { if (e.code !== 'EEXIST') throw e; });
    const partial = await mkdtemp(join(this.root, `${PARTIAL}${ref.oid}-`));
    try {
      await this.opts.pull(ref, partial);
      // The rename is atomic: the image appears whole, or (after a crash mid-pull) not at all.
      await rename(partial, dest);
      return dest;
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      // Another process sharing the data folder finished the same image first: theirs is as good as ours.
      if (await isDir(dest)) return dest;
      throw new Error(`Failed to pull image ${JSON.stringify(image)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

const isDir = (path: string) => stat(path).then((s) => s.isDirectory(), () => false);
