// serve's event-loop thread runs the API, the Service proxy, the controllers and every node's kubelet work. A burst
// of container starts keeps both cores of a small machine busy with what each start execs (unshare, sh, mount, the
// command: ~20 ms of CPU each), and the loop then waited for a core as long as it ran: a single GET took 110–150 ms
// at p99 during a 1,000-pod creation, 74 ms with the loop at nice -5. Kubernetes gets the same by reserving CPU for
// the system slice above the pods. Only the loop's thread is raised (Linux keeps a nice value per thread), and it is
// marked SCHED_RESET_ON_FORK first, so that nothing serve starts (containers, podman, kubectl, threads) inherits it.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

export type LoopPriority = { nice: number } | { unchanged: string };

/** Sets the calling (main) thread's nice value to `nice` (≤ 0), when this process may; else says why not. */
export async function raiseLoopPriority(nice: number): Promise<LoopPriority> {
  if (nice === 0) return { unchanged: 'asked to leave it' };
  if (process.platform !== 'linux') return { unchanged: 'only on Linux' };
  const before = os.getPriority(0); // pid 0: this thread
  if (nice >= before) return { unchanged: `it is ${before} already` };
  try {
    os.setPriority(0, nice);
    os.setPriority(0, before); // only a probe: raised for good once children cannot inherit it
  } catch {
    return { unchanged: 'needs root or CAP_SYS_NICE' };
  }
  try {
    // No Node API for the scheduling policy; util-linux's chrt sets it on this thread (the pid is the main thread's id).
    await promisify(execFile)('chrt', ['--reset-on-fork', '--other', '--pid', '0', String(process.pid)]);
  } catch (e) {
    return { unchanged: `chrt could not mark it reset-on-fork, so what serve starts would inherit it (${(e as Error).message.split('\n')[0]})` };
  }
  os.setPriority(0, nice);
  return { nice };
}
