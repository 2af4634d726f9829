// What of a container's securityContext and limits the process runtime applies to a host process, and what it
// cannot. Applied through setpriv (util-linux), which drops to the user and group (with no supplementary groups, as
// runc does) and sets no_new_privs, then execs the command: the spawn path itself stays as it is. The rest (a
// read-only root, capabilities, cgroup limits) would need a container engine: named in the node's Warning event.
import { readFile } from 'node:fs/promises';
import type { ContainerLaunch } from './runtime.ts';

export interface ProcessSecurity {
  /** argv to put before the command (empty: nothing to apply). */
  prefix: string[];
  /** One message naming the fields not enforced, if any. */
  warnings: string[];
}

/** The primary group of `uid` in the host's /etc/passwd (the process runtime's root filesystem), else 0, as runc does. */
async function primaryGroup(uid: number): Promise<number> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && Number(f[2]) === uid && f[2] !== '') return Number(f[3]) || 0;
  }
  return 0;
}

export async function processSecurity(launch: Pick<ContainerLaunch, 'security' | 'resources'>, ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }): Promise<ProcessSecurity> {
  const sec = launch.security ?? {};
  const res = launch.resources ?? {};
  const prefix: string[] = [];
  const not: string[] = [];
  if (sec.runAsUser !== undefined || sec.runAsGroup !== undefined) {
    // A group alone keeps the "image's" user: the host's programs run as serve's.
    const uid = sec.runAsUser ?? ids.uid;
    const gid = sec.runAsGroup ?? (sec.runAsUser !== undefined ? await primaryGroup(uid) : ids.gid);
    if (ids.uid === 0) prefix.push(`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups');
    else {
      if (uid !== ids.uid) not.push('runAsUser');
      if (sec.runAsGroup !== undefined && gid !== ids.gid) not.push('runAsGroup');
    }
  }
  if (sec.allowPrivilegeEscalation === false) prefix.push('--no-new-privs');
  if (sec.readOnlyRootFilesystem) not.push('readOnlyRootFilesystem');
  if (sec.capabilities?.add?.length || sec.capabilities?.drop?.length) not.push('capabilities');
  if (res.memoryLimitBytes) not.push('limits.memory');
  if (res.cpuLimitMillis) not.push('limits.cpu');
  const why = not.some((f) => f.startsWith('runAs')) ? ' (a different user needs serve to run as root)' : '';
  return {
    prefix: prefix.length ? ['setpriv', ...prefix, '--'] : [],
    warnings: not.length ? [`${not.join(', ')} not enforced: the process runtime runs host processes without a container engine${why}`] : [],
  };
}
