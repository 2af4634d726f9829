// The process runtime's containers share one CPU cgroup beside serve, as the kubelet puts every pod under
// `kubepods` with CPU shares for what is allocatable and keeps the rest for the system (--kube-reserved). Without
// it each container is an entity of the scheduler of its own (its own session, so its own autogroup), and a burst
// of container starts on a 2-core machine left serve's event loop waiting for a core for half of its long stalls:
// the API stalled while the pods it was starting ran. In the group, all pods together weigh what the cores but one
// weigh (one core's, on a 1- or 2-core machine), so serve gets its core back when it needs it; shares are weights
// under contention, never a cap: an idle serve leaves every core to the pods.
// cgroup v1's cpu controller only (root, or a delegated hierarchy): cgroup v2 forbids a group that holds processes
// (serve's) from having children with controllers, so there it would take moving serve too (docs/engine.md). With
// realtime group scheduling (CONFIG_RT_GROUP_SCHED, off in Debian) a new group has no realtime budget: its
// containers could not switch to a realtime policy.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unescapeMountField } from '../volumes/mount-table.ts';

/** The group's name under serve's own cpu cgroup: one for every serve there (all pods weigh together). */
export const PODS_GROUP = 'convergit-pods';

/** `ordinary`: the usual case of a machine or user without it (no v1 hierarchy, not root), not worth a log line. */
export type PodsCpuGroup = { dir: string; shares: number } | { unavailable: string; ordinary?: true };

/** cpu.shares for the pods' group: one core's weight (1024) for each core but one, and at least one core's. */
export const podsShares = (cores = os.availableParallelism()) => Math.min(262144, 1024 * Math.max(1, cores - 1));

/**
 * Where this process's cpu cgroup (v1) is, from /proc/self/mountinfo and /proc/self/cgroup; undefined without a
 * v1 cpu hierarchy (cgroup v2 only, or none).
 */
export function ownCpuCgroup(mountinfo: string, cgroups: string): string | undefined {
  const own = cgroups.split('\n').map((l) => l.split(':')).find((f) => f.length >= 3 && f[1].split(',').includes('cpu'));
  if (!own) return undefined;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup' || !superOptions.split(',').includes('cpu')) continue;
    const [, , , escapedRoot, mountPoint] = left.split(' ');
    const root = unescapeMountField(escapedRoot);
    const ownPath = own.slice(2).join(':');
    // A mount of a subtree (in a container): serve's path relative to it. A path with `..` (a process outside its
    // cgroup namespace's root) has no place under the mount.
    const rel = root === '/' ? ownPath : ownPath.startsWith(`${root}/`) || ownPath === root ? ownPath.slice(root.length) : undefined;
    if (rel === undefined || rel.split('/').includes('..')) continue;
    return path.resolve(unescapeMountField(mountPoint), `.${rel}`);
  }
  return undefined;
}

/**
 * Makes (or finds) the pods' group under serve's own cpu cgroup and sets its shares; says why not when it cannot
 * (not Linux, no v1 cpu hierarchy, no permission: then every container stays an entity of its own, as before).
 */
export function podsCpuGroup(shares = podsShares(), name = PODS_GROUP): PodsCpuGroup {
  const read = (f: string) => readFileSync(f, 'utf8');
  if (process.platform !== 'linux') return { unavailable: 'only on Linux', ordinary: true };
  let own: string | undefined;
  try {
    own = ownCpuCgroup(read('/proc/self/mountinfo'), read('/proc/self/cgroup'));
  } catch (e) {
    return { unavailable: (e as Error).message };
  }
  if (!own) return { unavailable: 'no cgroup v1 cpu hierarchy (cgroup v2 is not supported yet)', ordinary: true };
  const dir = path.join(own, name);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'cpu.shares'), String(shares));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return { unavailable: `${dir} cannot be written (needs root or a delegated cgroup)`, ordinary: true };
    return { unavailable: (e as Error).message };
  }
  return { dir, shares };
}
