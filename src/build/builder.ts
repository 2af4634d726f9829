// What builds share across revisions: the kustomize found on PATH, the cache of built output, the bounds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCache } from './build-cache.ts';
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
}

export interface BuildStats {
  /** kustomize runs */
  built: number;
  /** builds answered from the cache */
  cached: number;
}

export class Builder {
  readonly stats: BuildStats = { built: 0, cached: 0 };
  readonly cache: BuildCache;

  constructor(private opts: BuilderOptions = {}) {
    this.cache = new BuildCache(opts.cacheDir);
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
