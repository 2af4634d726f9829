// Was a container OOM-killed? The kernel says so in its log ("oom-kill:… oom_memcg=/…/libpod-<id>"), which is where
// the kubelet's own OOM watcher (cadvisor's oomparser) reads it. podman's State.OOMKilled comes from conmon and
// misses kills on some cgroup v1 hosts, so both are asked.
import { closeSync, constants, openSync, readSync } from 'node:fs';

/** True when the kernel log holds an OOM kill in the memory cgroup of container `id`. Linux, root only. */
export function oomKilledInKernelLog(id: string): boolean {
  let fd: number;
  try {
    fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  const buf = Buffer.alloc(16 * 1024);
  const needle = `libpod-${id}`;
  try {
    // Each read returns one record, oldest first; EAGAIN at the end of the buffer.
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue; // records overwritten while reading: go on
        return false;
      }
      if (n <= 0) return false;
      const line = buf.toString('utf8', 0, n);
      if (line.includes('oom-kill:') && line.includes(needle)) return true;
    }
  } finally {
    closeSync(fd);
  }
}
