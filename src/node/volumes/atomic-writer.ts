// Writes a volume's files (configMap, secret, downwardAPI, projected) so that a reader never sees half an update,
// as the kubelet's AtomicWriter does: the files go into a fresh timestamped folder, the `..data` link is swapped to
// it by one rename, and the names the user sees are links through `..data`. An unchanged payload writes nothing.
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileProjection { data: Buffer; mode: number }

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** Kubernetes' rules for a payload path: relative, no `..` element, not starting with `..`. */
export function payloadPathProblem(p: string): string | undefined {
  if (!p) return 'must not be empty';
  if (p.startsWith('/')) return 'must be a relative path';
  const parts = p.split('/');
  if (parts.includes('..')) return "must not contain '..'";
  if (parts[0].startsWith('..')) return "must not start with '..'";
  return undefined;
}

const clean = (p: string) => p.split('/').filter((s) => s && s !== '.').join('/');

/** Every file and folder path under `dir`, relative to it. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), rel)));
  }
  return out;
}

async function sameAsOnDisk(payload: Map<string, FileProjection>, oldDir: string): Promise<boolean> {
  for (const [p, f] of payload) {
    const cur = await readFile(join(oldDir, p)).catch(() => undefined);
    if (!cur || !cur.equals(f.data)) return false;
    const st = await lstat(join(oldDir, p));
    if ((st.mode & 0o7777) !== f.mode) return false;
  }
  return true;
}

/** The user-visible top-level names of a payload (`a/b` shows as `a`). */
const topNames = (paths: Iterable<string>) => new Set([...paths].map((p) => p.split('/')[0]));

/**
 * Makes `target` hold exactly `payload` (relative path → content and mode). Returns whether anything changed.
 * Throws on an invalid path, before writing anything.
 */
export async function writeAtomically(target: string, payload: Map<string, FileProjection>): Promise<boolean> {
  const files = new Map<string, FileProjection>();
  for (const [p, f] of payload) {
    const problem = payloadPathProblem(p);
    if (problem) throw new Error(`invalid path ${JSON.stringify(p)}: ${problem}`);
    files.set(clean(p), f);
  }
  await mkdir(target, { recursive: true });
  const dataLink = join(target, DATA);
  const oldTs = await readlink(dataLink).catch(() => undefined);
  let stale = new Set<string>();
  if (oldTs) {
    const oldDir = join(target, oldTs);
    const oldPaths = await walk(oldDir).catch(() => [] as string[]);
    const wanted = new Set<string>();
    for (const p of files.keys()) for (let q = p; q; q = q.includes('/') ? dirname(q) : '') wanted.add(q);
    stale = new Set(oldPaths.filter((p) => !wanted.has(p) && !p.includes('/')));
    // Nothing to add, change or remove: no write (the kubelet's shouldWritePayload).
    if (oldPaths.every((p) => wanted.has(p)) && (await sameAsOnDisk(files, oldDir))) return false;
  }
  // A fresh timestamped folder with the new files, readable by any user of the container.
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace(/\..*/, '');
  const tsDir = await mkdtemp(join(target, `..${stamp}.`));
  await chmod(tsDir, 0o755);
  try {
    for (const [p, f] of files) {
      const full = join(tsDir, p);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, f.data);
      await chmod(full, f.mode); // writeFile's mode is masked by the umask
    }
    // The user-visible names, each a link through ..data (created once, valid across every later swap).
    for (const name of topNames(files.keys())) {
      const visible = join(target, name);
      if (await readlink(visible).catch(() => undefined)) continue;
      await rm(visible, { recursive: true, force: true });
      await symlink(join(DATA, name), visible);
    }
    // The swap: a new link renamed over ..data, atomic for every reader.
    const tmpLink = join(target, DATA_TMP);
    await rm(tmpLink, { force: true });
    await symlink(tsDir.slice(target.length + 1), tmpLink);
    await rename(tmpLink, dataLink);
  } catch (e) {
    await rm(tsDir, { recursive: true, force: true });
    throw e;
  }
  for (const name of stale) await rm(join(target, name), { force: true });
  if (oldTs) await rm(join(target, oldTs), { recursive: true, force: true });
  return true;
}
