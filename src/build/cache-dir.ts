// Where the CLI keeps built output between runs: the user's cache folder, so a pre-commit hook or a repeated
// plan does not rebuild an unchanged kustomization (serve keeps its own under <data-dir>/builds).
import os from 'node:os';
import path from 'node:path';

export const userBuildCacheDir = (env: NodeJS.ProcessEnv = process.env) =>
  path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convergit', 'builds');

/** Where the CLI keeps loaded files between runs (load-cache.ts); serve keeps its own under <data-dir>/loads. */
export const userLoadCacheDir = (env: NodeJS.ProcessEnv = process.env) =>
  path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convergit', 'loads');

/** serve's own, in its data folder (which plan --data-dir reads too). */
export const dataDirBuildCacheDir = (dataDir: string) => path.join(dataDir, 'builds');
export const dataDirLoadCacheDir = (dataDir: string) => path.join(dataDir, 'loads');
