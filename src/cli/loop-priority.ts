// serve's threads run the API, the Service proxy, the controllers and every node's kubelet work (its event loop),
// and a burst of container starts keeps both cores of a small machine busy with what each start execs (unshare, sh,
// mount, the command: ~20 ms of CPU each). Kubernetes reserves CPU for the system slice above the pods; here serve
// raises its threads' nice value. Linux keeps one per thread, and a new one inherits its creator's: the loop's
// thread, which starts every process, is marked SCHED_RESET_ON_FORK first, so that nothing serve starts
// (containers, podman, kubectl, new threads) inherits it. With autogroup scheduling a nice value ranks threads
// within a session only, and containers have sessions of their own (docs/engine.md says what that leaves).
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';

export type LoopPriority = { nice: number } | { unchanged: string };

/** Sets the nice value of this process's threads to `nice` (≤ 0), when it may; else says why not. Call it from the main thread. */
export async function raiseLoopPriority(nice: number): Promise<LoopPriority> {
  if (nice === 0) return { unchanged: 'asked to leave it' };
  if (process.platform !== 'linux') return { unchanged: 'only on Linux' };
  const before = os.getPriority(0); // pid 0: this thread
  if (before > 0) return { unchanged: `it was started at nice ${before} (asked to run low: left so)` };
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
  // The process's other threads too (V8's garbage-collector helpers, libuv's file threads): with the loop alone
  // raised, its collector's helpers fell behind it and the loop did more of the marking itself (a 30,000-pod run cost
  // 13% more CPU). Threads made later start at 0 (reset-on-fork); none of them starts a process.
  for (const tid of await readdir('/proc/self/task').catch(() => [] as string[])) {
    try { os.setPriority(Number(tid), nice); } catch { /* ended meanwhile */ }
  }
  return { nice };
}
