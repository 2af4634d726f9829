// The root filesystem of a container without an image (git images, by default): an empty folder with the host's
// system folders (/usr, and /bin, /lib … as they are: merged-/usr symlinks or folders) mounted read-only, so the
// host's programs (sh, node) run inside the pod's own namespaces. The folder itself is used through an overlay:
// what a container writes is its own and is gone with it.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Mount } from '../runtime.ts';

const SYSTEM = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** Creates the rootfs folder (idempotent) and returns the mounts that fill it. */
export async function hostRoot(dir: string): Promise<Mount[]> {
  const mounts: Mount[] = [];
  await mkdir(dir, { recursive: true });
  for (const name of [...SYSTEM, 'etc', 'tmp', 'proc', 'dev', 'sys', 'run']) {
    const host = `/${name}`;
    const inside = join(dir, name);
    if (!SYSTEM.includes(name)) {
      await mkdir(inside, { recursive: true });
      continue;
    }
    if (!existsSync(host)) continue;
    if (lstatSync(host).isSymbolicLink()) {
      if (!existsSync(inside) && !isLink(inside)) await symlink(readlinkSync(host), inside);
    } else {
      await mkdir(inside, { recursive: true });
      mounts.push({ hostPath: host, containerPath: host, readOnly: true });
    }
  }
  // node may live outside /usr (/opt/node, a version manager's folder): its installation comes along.
  const nodePrefix = dirname(dirname(process.execPath));
  if (!SYSTEM.some((d) => nodePrefix === `/${d}` || nodePrefix.startsWith(`/${d}/`)) && nodePrefix !== '/') {
    mounts.push({ hostPath: nodePrefix, containerPath: nodePrefix, readOnly: true });
  }
  return mounts;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
