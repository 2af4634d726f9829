// Where a local repository keeps its git data, and whether a folder is one.
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `<repo>/.git` for a working tree, the folder itself for a bare repository. */
export function gitDirOf(repo: string): string {
  const dotGit = join(repo, '.git');
  return statSync(dotGit, { throwIfNoEntry: false })?.isDirectory() ? dotGit : repo;
}

/** A git dir has a HEAD file and `objects/` and `refs/` folders (what `git` itself checks). */
export async function isRepository(gitdir: string): Promise<boolean> {
  const [head, objects, refs] = await Promise.all(
    ['HEAD', 'objects', 'refs'].map((p) => stat(join(gitdir, p)).catch(() => undefined)),
  );
  return !!head?.isFile() && !!objects?.isDirectory() && !!refs?.isDirectory();
}
