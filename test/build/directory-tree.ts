// A plain folder read in place as a SourceTree (the corpus is files, not a git repository). Folders have no
// oid, so nothing is cached.
import { cp, lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceTree, TreeEntry } from '../../src/build/source-tree.ts';

export class DirectoryTree implements SourceTree {
  constructor(private root: string) {}

  async entry(path: string): Promise<TreeEntry | undefined> {
    const st = await lstat(join(this.root, path)).catch(() => undefined);
    if (!st) return undefined;
    return { type: st.isDirectory() ? 'tree' : st.isSymbolicLink() ? 'symlink' : 'blob', oid: '' };
  }

  read(path: string): Promise<string> {
    return readFile(join(this.root, path), 'utf8');
  }

  exportFolder(path: string, dest: string): Promise<void> {
    return cp(join(this.root, path), dest, { recursive: true });
  }

  /** Every file below `dir`, repository-relative. */
  async files(dir = ''): Promise<{ path: string; content: string }[]> {
    const out: { path: string; content: string }[] = [];
    for (const e of await readdir(join(this.root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) out.push(...(await this.files(path)));
      else if (e.isFile()) out.push({ path, content: await this.read(path) });
    }
    return out;
  }
}
