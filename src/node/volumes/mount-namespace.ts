// Volumes for host-process containers: the process starts in a mount namespace of its own (util-linux `unshare
// --mount --propagation private`, which execs in place, so the recorded pid is the container's), where a small
// shell bind-mounts each volume onto its mount path (one `mount --all` of a list written beside the container's log)
// and then execs the container's command.
//
// A missing mount path cannot be created on the shared host root without changing the host, so it is made in an
// overlay over its deepest existing ancestor mounted inside the namespace (writes go to a folder of the pod's, never
// to the host): serve makes the mount point beforehand in the overlay's upper folder. That is refused, with the reason, when the ancestor is `/` or has
// mount points below it (the overlay would hide them). A user other than root gets the mount namespace inside a
// user namespace of its own (`--user --map-root-user`: root there, itself outside, as rootless podman does);
// every mount is refused, with the reason, only where neither works.
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { lstat, mkdir, stat, writeFile } from '../quick-fs.ts';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../runtime/runtime.ts';
import { mountsUnder } from './pod-volumes.ts';
import { escapeMountField } from './mount-table.ts';

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
/**
 * The first path from `root` down to `root/rel` that is a symbolic link leading out of `root`, if any. Links that
 * stay inside are followed (a configMap's names are links through `..data`), as runc's securejoin resolves them.
 */
async function symlinkOnTheWay(root: string, rel: string): Promise<string | undefined> {
  const realRoot = await realpath(root).catch(() => root);
  let at = root;
  for (const part of rel.split('/')) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (!st) return undefined; // made from here on by serve: real folders
    if (!st.isSymbolicLink()) continue;
    const to = await realpath(at).catch(() => undefined); // a dangling link: mkdir would follow it anywhere
    if (!to || (to !== realRoot && !to.startsWith(`${realRoot}/`))) return at;
  }
  return undefined;
}

export type Wrapped = { argv: string[] } | { problem: string };

/**
 * The argv that runs `argv` with `mounts` in a mount namespace of its own; `scratch` is a folder of the container's
 * for the overlays that hold missing mount points, and for the fstab of its mounts.
 *
 * Every exec counts on a pod's way (each `mount`, `mkdir` and `hostname` cost 3–8 ms of CPU, ~40 ms a pod when each
 * mount was a command of its own, as much as serve spent on the pod): the mount points are made here, beforehand,
 * and one `mount --all` mounts the list in order; the hostname is a write to /proc unless only hostname(1) may set it.
 */
export async function inMountNamespace(argv: string[], mounts: Mount[], cwd: string, scratch: string, given?: readonly string[], hostname?: string): Promise<Wrapped> {
  const support = given ? { flags: given } : await mountNamespaceFlags();
  if ('problem' in support) return { problem: `the pod mounts volumes, and ${support.problem}` };
  const ordered = [...mounts].map((m) => ({ ...m, containerPath: resolve('/', m.containerPath) }))
    .sort((a, b) => a.containerPath.split('/').length - b.containerPath.split('/').length);
  /** Each overlay's lower folder, with its upper folder (on the host: the container's; its work folder beside it). */
  const overlays = new Map<string, string>();
  const workOf = (upper: string) => join(dirname(upper), 'work');
  /** The bind mounts' lines. */
  const fstab: string[] = [];
  /** Mount points made before the mounts, as `mkdir -p` inside the namespace would have made them: [host path, is a folder]. */
  const points: [string, boolean][] = [];
  /** Read-only mount paths that are host mount points already (see below). */
  const remounts: string[] = [];
  for (const [i, m] of ordered.entries()) {
    const src = await stat(m.hostPath).catch(() => undefined);
    if (!src) return { problem: `volume folder ${m.hostPath} for ${m.containerPath} does not exist` };
    const dst = m.containerPath;
    const inside = ordered.slice(0, i).findLast((o) => dst.startsWith(`${o.containerPath}/`));
    // Under an earlier mount, the mount point is made inside that volume (as runc does), not looked for on the host.
    const here = inside ? undefined : await stat(dst).catch(() => undefined);
    if (here && here.isDirectory() !== src.isDirectory()) {
      return { problem: `mount path ${dst} is a ${here.isDirectory() ? 'folder' : 'file'} on this host, the volume a ${src.isDirectory() ? 'folder' : 'file'}` };
    }
    if (inside) {
      // What the container may have written into the enclosing volume is not followed: serve (often root) makes the
      // mount point, and a symlink on the way would have it make folders or files anywhere on the host.
      const rel = relative(inside.containerPath, dst);
      const link = await symlinkOnTheWay(inside.hostPath, rel);
      if (link) return { problem: `mount path ${dst} passes through a symbolic link out of the volume mounted at ${inside.containerPath} (${link}): not followed` };
      points.push([join(inside.hostPath, rel), src.isDirectory()]);
    }
    else if (!here) {
      let anc = dirname(dst);
      while (anc !== '/' && !(await stat(anc).catch(() => undefined))?.isDirectory()) anc = dirname(anc);
      const why = `mount path ${dst} does not exist on this host, and the process runtime makes it only inside an overlay of an existing folder above it`;
      if (anc === '/') return { problem: `${why} other than / (create it, or mount under an existing folder)` };
      // The kernel mounts the overlay on the folder a symlinked path leads to: its mounts are looked for there.
      const realAnc = await realpath(anc).catch(() => anc);
      const below = (await mountsUnder(realAnc)).filter((p) => p !== realAnc);
      if (below.length) return { problem: `${why}: ${anc} has mount points below it (${below.slice(0, 3).join(', ')}) that an overlay would hide` };
      let upper = overlays.get(anc);
      if (!upper) {
        const n = overlays.size;
        upper = join(scratch, String(n), 'upper');
        const work = workOf(upper);
        // overlayfs splits its options at ',' and its lower folders at ':' (and gives '\\' and '"' meanings of their
        // own): a folder naming one would be misread by the kernel, so it is refused here, saying why.
        const unsafe = [anc, upper, work].find((f) => /[,:\\"]/.test(f));
        if (unsafe) return { problem: `${why}, and ${unsafe} has a character (, : \\ or ") overlayfs options cannot hold` };
        overlays.set(anc, upper);
        points.push([upper, true], [work, true]);
      }
      // Made in the overlay's upper folder: what the overlay shows at dst, and nothing on the host.
      points.push([join(upper, relative(anc, dst)), src.isDirectory()]);
    }
    fstab.push(`${escapeMountField(m.hostPath)} ${escapeMountField(dst)} none ${m.readOnly ? 'bind,ro' : 'bind'} 0 0`);
    // `mount --all` skips an entry libmount finds mounted already: a read-only volume whose mount path is a mount
    // point of the host (the same folder bound onto itself) stayed writable. Made read-only by name after the list.
    // libmount resolves the path first: compared resolved (a path through a symlink, /var/run/…).
    if (m.readOnly && here) {
      const real = await realpath(dst).catch(() => dst);
      if ((await mountsUnder(real)).includes(real)) remounts.push(dst);
    }
  }
  try {
    for (const [path, folder] of points) {
      if (folder) await mkdir(path, { recursive: true });
      else {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, '', { flag: 'a' });
      }
    }
    await mkdir(scratch, { recursive: true });
    // The overlays before every bind mount (one mounted after a shallower bind mount would cover it), shallower
    // folders first (one over /srv mounted after one over /srv/b would cover that).
    const depth = (f: string) => f.split('/').length;
    const overlayLines = [...overlays].sort(([a], [b]) => depth(a) - depth(b))
      .map(([anc, upper]) => `overlay ${escapeMountField(anc)} overlay ${escapeMountField(`lowerdir=${anc},upperdir=${upper},workdir=${workOf(upper)}`)} 0 0`);
    await writeFile(join(scratch, 'fstab'), [...overlayLines, ...fstab].map((l) => `${l}\n`).join(''));
  } catch (e) {
    return { problem: `making the mount points of the pod's volumes failed: ${(e as Error).message}` };
  }
  const fail = (what: string) => `|| { echo ${q(`convergit: ${what} failed`)} >&2; exit 128; }`;
  const lines = ['set -e'];
  // --no-mtab: nothing to record outside the namespace. In the file's order: the overlays, then the bind mounts by
  // depth, so a bind mount inside another comes after it and no overlay covers one.
  if (fstab.length) lines.push(`mount --no-mtab --all --fstab ${q(join(scratch, 'fstab'))} ${fail(`mounting the volumes listed in ${join(scratch, 'fstab')}`)}`);
  for (const d of remounts) lines.push(`mount --no-mtab -o remount,bind,ro ${q(d)} ${fail(`making ${d} read-only`)}`);
  // The pod's hostname, in a UTS namespace of the container's own (a sandbox's would be shared by the pod's
  // containers; each gets the same name here). Root of a user namespace may call sethostname there (hostname(1),
  // Debian's essential `hostname`) but may not write /proc/sys/kernel/hostname; root may do either.
  if (hostname) lines.push(`{ echo ${q(hostname)} > /proc/sys/kernel/hostname; } 2>/dev/null || hostname ${q(hostname)} ${fail('setting the hostname')}`);
  // The working folder may be (under) a mount path: entered again, through the mounts.
  lines.push(`cd ${q(cwd)} 2>/dev/null || true`, 'exec "$@"');
  return { argv: ['unshare', ...support.flags, ...(hostname ? ['--uts'] : []), '--propagation', 'private', '/bin/sh', '-c', lines.join('\n'), 'sh', ...argv] };
}
