// What rootless podman needs from the machine, checked before a container is tried, so that serve can say which
// piece is missing (and fall back to the process runtime) instead of passing on podman's own error: a subordinate
// id range for the user (/etc/subuid, /etc/subgid) and newuidmap/newgidmap to map it, /dev/net/tun for the network
// helper (slirp4netns), and a runtime folder of the user's own ($XDG_RUNTIME_DIR, where podman keeps its
// rootless network namespace).
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';

/** Whether this process runs podman rootless (not as root). */
export const isRootless = (): boolean => process.getuid?.() !== 0;

/** Why rootless podman cannot work here, or undefined when every piece is in place. */
export function rootlessMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const uid = process.getuid?.() ?? 0;
  const user = userInfo().username;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    if (!hasRange(file, user, uid)) {
      return `rootless podman needs a subordinate id range for ${user} in ${file} (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user})`;
    }
  }
  for (const bin of ['newuidmap', 'newgidmap']) {
    if (!['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'].some((d) => existsSync(`${d}/${bin}`))) {
      return `rootless podman needs ${bin} (apt-get install uidmap)`;
    }
  }
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return 'rootless podman needs /dev/net/tun readable and writable by this user for its network (slirp4netns); it is not (as root: chmod 0666 /dev/net/tun, its usual mode)';
  }
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir) {
    let ok = false;
    try {
      const s = statSync(runtimeDir);
      ok = s.isDirectory() && s.uid === uid;
    } catch { /* missing */ }
    if (!ok) return `XDG_RUNTIME_DIR=${runtimeDir} is not a folder owned by ${user}: podman keeps its rootless network namespace there`;
  }
  return undefined;
}

/** Whether `file` (subuid/subgid format: `name-or-uid:start:count`) gives the user a range. */
function hasRange(file: string, user: string, uid: number): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((line) => {
    const [who, , count] = line.trim().split(':');
    return (who === user || who === String(uid)) && Number(count) > 0;
  });
}

/**
 * Rootless podman on cgroup v1 cannot set cgroup limits: it warns "Resource limits are not supported and ignored on
 * cgroups V1 rootless systems" and runs the container without them. On cgroup v2 it can, where the controllers are
 * delegated to the user.
 */
export const rootlessLimitsIgnored = (): boolean => !existsSync('/sys/fs/cgroup/cgroup.controllers');
