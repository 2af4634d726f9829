// Image garbage collection as the kubelet's image manager does it (pkg/kubelet/images/image_gc_manager.go): when
// the filesystem of the image store is used at or over the high threshold (percent), unused images are removed,
// least recently used first, until it would be at the low threshold. Unused: no container on the machine (running
// or not) is of it; and not used (nor first seen) within the minimum age. Only images this convergit instance pulled
// are candidates: podman's store is shared by everyone on the machine, and other users' images are not ours.
import { statfs } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { podman, type PodmanCli } from './cli.ts';
import { writeFileWholeSync } from '../../../store/durable-file.ts';

export interface ImageGCOptions {
  /** --image-gc-high-threshold: percent of the filesystem used at which GC runs (kubelet default 85). */
  highThresholdPercent: number;
  /** --image-gc-low-threshold: percent GC frees down to (kubelet default 80). */
  lowThresholdPercent: number;
  /** --image-minimum-gc-age: an image used more recently is kept (kubelet default 2m). */
  minAgeMs: number;
}

export const DEFAULT_IMAGE_GC: ImageGCOptions = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000 };

/** Image id → when a container of it last started (or it was pulled), in ms since the epoch. Kept in a file, so a restart forgets nothing. */
export class ImageUsage {
  private readonly used: Record<string, number>;

  constructor(private readonly file: string) {
    try {
      this.used = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      this.used = {};
    }
  }

  private saving: NodeJS.Timeout | undefined;

  /** A pull is saved at once (it makes the image ours); a container's start within a second, with the others then. */
  touch(id: string, at = Date.now(), { soon = false } = {}): void {
    this.used[id] = at;
    if (!soon) return this.save();
    this.saving ??= setTimeout(() => this.save(), 1000).unref();
  }

  forget(id: string): void {
    delete this.used[id];
    this.save();
  }

  /** Writes what waits to be saved (the runtime's close). */
  flush(): void {
    if (this.saving) this.save();
  }

  has(id: string): boolean {
    return Object.hasOwn(this.used, id);
  }

  /** Least recently used first. */
  entries(): [string, number][] {
    return Object.entries(this.used).sort((a, b) => a[1] - b[1]);
  }

  private save(): void {
    clearTimeout(this.saving);
    this.saving = undefined;
    writeFileWholeSync(this.file, JSON.stringify(this.used));
  }
}

export interface ImageGCResult { usagePercent: number; removed: string[]; freedBytes: number }

/** One GC pass: nothing when the store's filesystem is under the high threshold. */
export async function collectImages(cli: PodmanCli, usage: ImageUsage, opts: ImageGCOptions, now = Date.now()): Promise<ImageGCResult> {
  const root = await podman(cli, ['info', '--format', '{{.Store.GraphRoot}}']);
  if (root.code !== 0) throw new Error(`podman info: ${root.stderr.trim()}`);
  const fs = await statfs(root.stdout.trim());
  const capacity = fs.blocks * fs.bsize;
  const available = fs.bavail * fs.bsize;
  // As the kubelet computes it: what is not available to us counts as used.
  const usagePercent = 100 - Math.floor((available * 100) / capacity);
  const result: ImageGCResult = { usagePercent, removed: [], freedBytes: 0 };
  if (usagePercent < opts.highThresholdPercent) return result;
  const toFree = (capacity * (100 - opts.lowThresholdPercent)) / 100 - available;
  const ps = await podman(cli, ['ps', '-a', '--no-trunc', '--format', '{{.ImageID}}']);
  if (ps.code !== 0) throw new Error(`podman ps: ${ps.stderr.trim()}`);
  const inUse = new Set(ps.stdout.split('\n').filter(Boolean));
  for (const [id, lastUsed] of usage.entries()) {
    if (result.freedBytes >= toFree) break;
    if (inUse.has(id) || now - lastUsed < opts.minAgeMs) continue;
    const size = await podman(cli, ['image', 'inspect', '--format', '{{.Size}}', id]);
    if (size.code !== 0) {
      usage.forget(id); // removed by someone else
      continue;
    }
    // Without -f: podman refuses an image a container (started meanwhile) still uses.
    const rm = await podman(cli, ['rmi', id]);
    if (rm.code !== 0) continue;
    usage.forget(id);
    result.removed.push(id);
    result.freedBytes += Number(size.stdout.trim()) || 0;
  }
  return result;
}
