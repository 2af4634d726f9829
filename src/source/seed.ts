// Makes a git repository from a folder (used by `npm start` to turn the bundled examples into a watched repo).
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';

/** Creates `dir` as a repository holding a copy of `from`, committed on `branch`. Returns false if it already exists. */
export async function seedRepository(from: string, dir: string, branch = 'main'): Promise<boolean> {
  if (fs.existsSync(path.join(dir, '.git'))) return false;
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(from, dir, { recursive: true });
  await git.init({ fs, dir, defaultBranch: branch });
  const files = await git.statusMatrix({ fs, dir });
  for (const [filepath] of files) await git.add({ fs, dir, filepath });
  await git.commit({
    fs, dir,
    message: 'Initial revision: convergit example',
    author: { name: 'convergit', email: 'convergit@localhost' },
  });
  return true;
}
