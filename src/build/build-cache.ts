// Built output by input key (the tree oids a build read, the tool's version): an unchanged kustomization is not
// rebuilt on the next commit. Kept in memory, and in a folder when one is given (serve: <data-dir>/builds, the
// CLI: the user's cache folder), so a pre-commit hook or a restarted serve does not rebuild either. Other folders can
// be read too, never written (`alsoFrom`: `plan --data-dir` reads serve's <data-dir>/builds).
import { mkdir, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileWhole } from '../store/durable-file.ts';

const MAX_ENTRIES = 256;
/** Files kept in the folder; the least recently used go first. */
const MAX_FILES = 1024;

export class BuildCache {
  private memory = new Map<string, string>();

  /** `alsoFrom`: folders of other build caches, read for what `dir` lacks. */
  constructor(private dir?: string, private alsoFrom: string[] = []) {}

  async get(key: string): Promise<string | undefined> {
    const hit = this.memory.get(key);
    if (hit !== undefined) return hit;
    for (const folder of [this.dir, ...this.alsoFrom]) {
      if (!folder) continue;
      const file = join(folder, `${key}.yaml`);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      this.remember(key, text);
      const now = new Date();
      if (folder === this.dir) await utimes(file, now, now).catch(() => {}); // used: kept longer (theirs is only read)
      return text;
    }
    return undefined;
  }

  async set(key: string, output: string): Promise<void> {
    this.remember(key, output);
    if (!this.dir) return;
    // Written aside and renamed: a reader never sees half a build. A cache that cannot be written only costs time.
    const file = join(this.dir, `${key}.yaml`);
    await mkdir(this.dir, { recursive: true }).then(() => writeFileWhole(file, output)).catch(() => {});
    await this.trim().catch(() => {});
  }

  /** Keeps the folder to MAX_FILES builds. Runs after a build, which costs far more than listing a folder. */
  private async trim() {
    const names = (await readdir(this.dir!)).filter((n) => n.endsWith('.yaml'));
    if (names.length <= MAX_FILES) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.dir!, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, names.length - MAX_FILES)) await rm(join(this.dir!, n), { force: true });
  }

  private remember(key: string, output: string) {
    this.memory.delete(key);
    this.memory.set(key, output);
    if (this.memory.size > MAX_ENTRIES) this.memory.delete(this.memory.keys().next().value!);
  }
}
