// Volumes for host-process containers: the process starts in a mount namespace of its own (util-linux `unshare
// --mount --propagation private`, which execs in place, so the recorded pid is the container's), where a small
// shell bind-mounts each volume onto its mount path and then execs the container's command.
//
// A missing mount path cannot be created on the shared host root without changing the host, so it is made inside
// the namespace: an overlay over its deepest existing ancestor (writes go to a folder of the pod's, never to the
// host) lets the mount point be created there. That is refused, with the reason, when the ancestor is `/` or has
// mount points below it (the overlay would hide them). A user other than root gets the mount namespace inside a
// user namespace of its own (`--user --map-root-user`: root there, itself outside, as rootless podman does);
// every mount is refused, with the reason, only where neither works.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../runtime/runtime.ts';
import { mountsUnder } from './pod-volumes.ts';

const run = promisify(execFile);

/** unshare's namespace flags, in the order tried: a mount namespace alone (root), else inside a user namespace. */
export const NAMESPACE_FLAGS = [['--mount'], ['--user', '--map-root-user', '--mount']] as const;

let support: Promise<{ flags: readonly string[] } | { problem: string }> | undefined;

/** The unshare flags this user may make a mount namespace with, else why it may not. Asked once. */
export function mountNamespaceFlags(): Promise<{ flags: readonly string[] } | { problem: string }> {
  support ??= (async () => {
    let last = '';
    for (const flags of NAMESPACE_FLAGS) {
      try {
        await run('unshare', [...flags, '--propagation', 'private', 'true']);
        return { flags };
      } catch (e: any) {
        last = String(e.stderr || e.message).trim();
      }
    }
    return { problem: `this user may not create a mount namespace, nor one inside a user namespace (unshare: ${last})` };
  })();
  return support;
}

/** `path` is at or under the container path of one of `mounts`. */
export const underMount = (path: string, mounts: readonly Mount[] = []) =>
  mounts.some((m) => { const c = resolve('/', m.containerPath); return path === c || path.startsWith(`${c}/`); });

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export type Wrapped = { argv: string[] } | { problem: string };

/**
 * The argv that runs `argv` with `mounts` in a mount namespace of its own; `scratch` is a folder of the container's
 * for the overlays that hold missing mount points.
 */
export async function inMountNamespace(argv: string[], mounts: Mount[], cwd: string, scratch: string, given?: readonly string[], hostname?: string): Promise<Wrapped> {
  const support = given ? { flags: given } : await mountNamespaceFlags();
  if ('problem' in support) return { problem: `the pod mounts volumes, and ${support.problem}` };
  const ordered = [...mounts].map((m) => ({ ...m, containerPath: resolve('/', m.containerPath) }))
    .sort((a, b) => a.containerPath.split('/').length - b.containerPath.split('/').length);
  const overlays = new Map<string, number>();
  const lines = ['set -e'];
  const pre: string[] = [];
  const fail = (what: string) => `|| { echo ${q(`convergit: ${what} failed`)} >&2; exit 128; }`;
  for (const [i, m] of ordered.entries()) {
    const src = await stat(m.hostPath).catch(() => undefined);
    if (!src) return { problem: `volume folder ${m.hostPath} for ${m.containerPath} does not exist` };
    const dst = m.containerPath;
    const inside = ordered.slice(0, i).find((o) => dst.startsWith(`${o.containerPath}/`));
    // Under an earlier mount, the mount point is made inside that volume (as runc does), not looked for on the host.
    const here = inside ? undefined : await stat(dst).catch(() => undefined);
    if (here && here.isDirectory() !== src.isDirectory()) {
      return { problem: `mount path ${dst} is a ${here.isDirectory() ? 'folder' : 'file'} on this host, the volume a ${src.isDirectory() ? 'folder' : 'file'}` };
    }
    if (!here && !inside) {
      let anc = dirname(dst);
      while (anc !== '/' && !(await stat(anc).catch(() => undefined))?.isDirectory()) anc = dirname(anc);
      const why = `mount path ${dst} does not exist on this host, and the process runtime makes it only inside an overlay of an existing folder above it`;
      if (anc === '/') return { problem: `${why} other than / (create it, or mount under an existing folder)` };
      const below = (await mountsUnder(anc)).filter((p) => p !== anc);
      if (below.length) return { problem: `${why}: ${anc} has mount points below it (${below.slice(0, 3).join(', ')}) that an overlay would hide` };
      if (!overlays.has(anc)) {
        const n = overlays.size;
        overlays.set(anc, n);
        const upper = join(scratch, String(n), 'upper'), work = join(scratch, String(n), 'work');
        pre.push(upper, work);
        lines.push(`mount -t overlay overlay -o ${q(`lowerdir=${anc},upperdir=${upper},workdir=${work}`)} ${q(anc)} ${fail(`overlay over ${anc}`)}`);
      }
    }
    if (!here) lines.push(src.isDirectory() ? `mkdir -p ${q(dst)}` : `mkdir -p ${q(dirname(dst))} && : >> ${q(dst)}`);
    lines.push(`mount --bind ${q(m.hostPath)} ${q(dst)} ${fail(`mounting ${m.hostPath} on ${dst}`)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(dst)} ${fail(`making ${dst} read-only`)}`);
  }
  // The pod's hostname, in a UTS namespace of the container's own (a sandbox's would be shared by the pod's
  // containers; each gets the same name here). hostname(1) (Debian's essential `hostname`) calls sethostname, which
  // root of a user namespace may do in its UTS namespace; a write to /proc/sys/kernel/hostname it may not.
  if (hostname) lines.push(`hostname ${q(hostname)} ${fail('setting the hostname')}`);
  // The working folder may be (under) a mount path: entered again, through the mounts.
  lines.push(`cd ${q(cwd)} 2>/dev/null || true`, 'exec "$@"');
  lines.splice(1, 0, ...pre.map((d) => `mkdir -p ${q(d)}`)); // the overlays' folders, before any mount
  return { argv: ['unshare', ...support.flags, ...(hostname ? ['--uts'] : []), '--propagation', 'private', '/bin/sh', '-c', lines.join('\n'), 'sh', ...argv] };
}
