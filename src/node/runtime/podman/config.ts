// The containers.conf convergit points podman at (CONTAINERS_CONF): ulimits at or below this machine's hard limits
// (podman's defaults exceed them on some machines and the OCI runtime fails with "error setting rlimit"), cgroupfs
// (no systemd needed), the events file (how exits are seen), and runc where crun refuses hybrid cgroups.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const NOFILE = 1024 * 1024;
const NPROC = 4096;

/** This process's hard limit (`Max open files`, `Max processes`), or undefined when unlimited or unknown. */
function hardLimit(name: 'Max open files' | 'Max processes'): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const hard = line?.slice(name.length).trim().split(/\s+/)[1];
    return hard && /^\d+$/.test(hard) ? Number(hard) : undefined;
  } catch {
    return undefined;
  }
}

/** cgroup v1 with a v2 hierarchy holding controllers: crun (1.8) refuses it, runc copes. */
function hybridCgroups(): boolean {
  try {
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

const findRunc = () => ['/usr/bin/runc', '/usr/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p));

export function containersConf(): string {
  const nofile = Math.min(NOFILE, hardLimit('Max open files') ?? NOFILE);
  const nproc = Math.min(NPROC, hardLimit('Max processes') ?? NPROC);
  const runc = hybridCgroups() ? findRunc() : undefined;
  return [
    '# Written by convergit for the podman it runs (CONTAINERS_CONF). Regenerated at every start.',
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    ...(runc ? ['runtime = "runc"'] : []),
    '',
  ].join('\n');
}

/** Writes `<dir>/containers.conf` and returns its path. */
export async function writeContainersConf(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'containers.conf');
  await writeFile(file, containersConf());
  return file;
}
