// Limits that keep a hostile or broken repository from hurting the process: file and total sizes, symlinks,
// paths leaving the manifest root, and YAML aliases that expand a small file into a huge tree.
import { EVENT_ID, type Event } from 'js-yaml';
import type { LoadOptions, ManifestFile } from './types.ts';

export interface Limits { maxFileBytes: number; maxTotalBytes: number; maxAliases: number }

const MiB = 1024 * 1024;

export const limitsOf = (o: LoadOptions): Limits => ({
  // Popular projects' install manifests are single files of a few MiB (many documents, CRDs of over 1 MiB).
  maxFileBytes: o.maxFileBytes ?? 8 * MiB,
  maxTotalBytes: o.maxTotalBytes ?? 64 * MiB,
  maxAliases: o.maxAliases ?? 100,
});

const size = (n: number) => (n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/** A `..` path segment (either separator). */
const PARENT = /(^|[\\/])\.\.([\\/]|$)/;
/** `./deploy/` → `deploy`; a root with nothing to strip as it is (every file of every commit asks: no regex runs). */
const normalRoot = (root: string) => (root.startsWith('./') || root.endsWith('/') ? root.replace(/^\.\/+/, '').replace(/\/+$/, '') : root);

/** Why a file must not be loaded (symlink, path, size), or undefined. */
export function fileRefusal(file: ManifestFile, root: string, limits: Limits, bytes = byteLength(file)): string | undefined {
  if (file.symlink) return 'file is a symbolic link; symlinks are refused in manifests';
  if (PARENT.test(file.path) || file.path.startsWith('/') || /^[A-Za-z]:/.test(file.path)) {
    return "file is outside the repository (absolute paths and '..' are refused)";
  }
  const r = normalRoot(root);
  if (r && r !== '.' && file.path !== r && !(file.path.startsWith(r) && file.path[r.length] === '/')) return `file is outside the manifest path "${r}"`;
  const lfs = lfsPointer(file.content);
  if (lfs) return lfs;
  if (bytes > limits.maxFileBytes) return `file is ${size(bytes)}, over the ${size(limits.maxFileBytes)} limit per file`;
  return undefined;
}

/**
 * A Git LFS pointer (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md) committed in place of the file:
 * its content lives on an LFS server, which is not fetched (Argo CD and Flux do not by default either).
 */
function lfsPointer(content: string): string | undefined {
  if (!content.startsWith('version https://git-lfs.github.com/spec/v1\n')) return undefined;
  const oid = /^oid (\S+)$/m.exec(content)?.[1];
  const bytes = /^size (\d+)$/m.exec(content)?.[1];
  const what = [oid, bytes && size(+bytes)].filter(Boolean).join(', ');
  return `file is a Git LFS pointer${what ? ` (${what})` : ''}, not a manifest: its content is in Git LFS, which is not fetched; commit the file itself, not through LFS`;
}

export const byteLength = (file: ManifestFile) => Buffer.byteLength(file.content, 'utf8');

/** Why a file that brings the total to `total` bytes must not be loaded, or undefined. */
export function totalRefusal(total: number, limits: Limits): string | undefined {
  if (total <= limits.maxTotalBytes) return undefined;
  return `file takes the manifests over the ${size(limits.maxTotalBytes)} total limit; it and later files are not loaded`;
}

/**
 * Refuses aliases that would blow up the loaded tree ("billion laughs"). js-yaml shares aliased nodes, so the
 * file loads cheaply, but every later walk (validation, JSON, diff) pays for the expanded size. Each node is
 * weighed by its text length; aliases may add at most the file's own size again plus 64 KiB.
 */
export function aliasProblem(events: readonly Event[], source: string, maxAliases: number): { offset: number; message: string } | undefined {
  const budget = 2 * source.length + 64 * 1024;
  let anchors = new Map<string, number>();
  let aliases = 0, total = 0;
  const stack: { weight: number; anchor: string | null }[] = [];
  const add = (w: number) => { total += w; if (stack.length) stack[stack.length - 1].weight += w; };
  const anchorOf = (ev: { anchorStart: number; anchorEnd: number }) => (ev.anchorStart >= 0 ? source.slice(ev.anchorStart, ev.anchorEnd) : null);

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT: anchors = new Map(); aliases = 0; break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: stack.push({ weight: 1, anchor: anchorOf(ev) }); total += 1; break;
      case EVENT_ID.SCALAR: {
        const w = Math.max(1, ev.valueEnd - ev.valueStart);
        add(w);
        const a = anchorOf(ev);
        if (a) anchors.set(a, w);
        break;
      }
      case EVENT_ID.POP: {
        const done = stack.pop();
        if (!done) break; // end of a document
        if (stack.length) stack[stack.length - 1].weight += done.weight;
        if (done.anchor) anchors.set(done.anchor, done.weight);
        break;
      }
      case EVENT_ID.ALIAS: {
        const offset = ev.anchorStart - 1;
        if (++aliases > maxAliases) return { offset, message: `more than ${maxAliases} YAML aliases in one document` };
        add(anchors.get(source.slice(ev.anchorStart, ev.anchorEnd)) ?? 1);
        if (total > budget) return { offset, message: `YAML aliases expand this file far beyond its size ("billion laughs"); refused` };
        break;
      }
    }
  }
  return undefined;
}
