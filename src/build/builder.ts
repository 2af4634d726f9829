// What builds share across revisions: the kustomize found on PATH, the cache of built output, the bounds, and
// the cache of loaded files that the load after each build reads.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCache } from './build-cache.ts';
import { DiskLoadCache } from './load-cache.ts';
import { codeFingerprint } from './code-fingerprint.ts';
import { dataDirBuildCacheDir, dataDirLoadCacheDir } from './cache-dir.ts';
import { findKustomize, runKustomize, type KustomizeTool } from './kustomize-tool.ts';

export interface BuilderOptions {
  /** Where built output is kept across processes (serve: <data-dir>/builds); memory only when absent. */
  cacheDir?: string;
  /** The environment kustomize is looked up in (PATH) and runs with; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Per build; default 30 s. */
  timeoutMs?: number;
  /** Per build's printed YAML; default 16 MiB, the loader's total limit. */
  maxOutputBytes?: number;
  /**
   * Where loaded files (parsed and validated) are kept across processes (serve: <data-dir>/loads), so an unchanged
   * file is not loaded again after a restart or by the next validate or plan; none when absent.
   */
  loadCacheDir?: string;
  /**
   * Data folders of a serve whose caches (<data-dir>/builds and loads) are read for what this builder's lack, never
   * written: plan --data-dir, so that a first plan on serve's machine builds and loads only what serve has not. Their
   * loads are read only beside a loadCacheDir of this builder's own.
   */
  alsoFrom?: string[];
  /**
   * Names the code whose builds and loads the caches hold (default: this installation's, code-fingerprint.ts): a
   * cache of other code answers nothing.
   */
  fingerprint?: string;
  /** Writes the load cache this long after a load instead of in it (serve: not in the way of the sync); default 0. */
  loadCacheWriteDelayMs?: number;
}

export interface BuildStats {
  /** kustomize runs */
  built: number;
  /** builds answered from the cache */
  cached: number;
  /** builds of plain files made from the last one (build-manifests.ts) */
  fromLast: number;
}

export class Builder {
  readonly stats: BuildStats = { built: 0, cached: 0, fromLast: 0 };
  readonly cache: BuildCache;

  constructor(private opts: BuilderOptions = {}) {
    this.cache = new BuildCache(opts.cacheDir, (opts.alsoFrom ?? []).map(dataDirBuildCacheDir));
  }

  private loadCache?: Promise<DiskLoadCache | undefined>;

  /** The code the caches' entries are of (BuilderOptions.fingerprint). */
  get fingerprint(): string {
    return this.opts.fingerprint ?? codeFingerprint();
  }

  /** The load cache of loadCacheDir, opened on first use; undefined without one. */
  loads(): Promise<DiskLoadCache | undefined> {
    const dir = this.opts.loadCacheDir;
    return (this.loadCache ??= dir ? DiskLoadCache.open(dir, { fingerprint: this.opts.fingerprint, writeDelayMs: this.opts.loadCacheWriteDelayMs, alsoFrom: (this.opts.alsoFrom ?? []).map(dataDirLoadCacheDir) }).catch(() => undefined) : Promise.resolve(undefined));
  }

  /** Writes what the load cache has not written yet (a delayed write's entries). */
  async close(): Promise<void> {
    await (await this.loadCache)?.close();
  }

  tool(): Promise<KustomizeTool | undefined> {
    return findKustomize(this.opts.env ?? process.env);
  }

  /** Runs `tool` on `dir` of a fresh temporary folder that `fill` writes; the folder is removed afterwards. */
  async run(tool: KustomizeTool, fill: (root: string) => Promise<string>): Promise<{ stdout: string; root: string }> {
    const root = await mkdtemp(join(tmpdir(), 'convergit-build-'));
    try {
      const dir = await fill(root);
      this.stats.built++;
      const stdout = await runKustomize(tool, dir, { env: this.opts.env, timeoutMs: this.opts.timeoutMs ?? 30_000, maxBytes: this.opts.maxOutputBytes ?? 16 * 1024 * 1024 });
      return { stdout, root };
    } catch (e) {
      (e as { root?: string }).root = root;
      throw e;
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
}

/** Shared by callers that pass no builder: the cache lives as long as the process. */
export const defaultBuilder = new Builder();
