// Preloaded into serve by a bench (node --import): records every event-loop stall of 20 ms or more (a 5 ms timer
// that fired late) as [the CLOCK_MONOTONIC µs it ended (the clock of serve's --cpu-prof samples), its wall ms, the
// CPU ms serve's main thread ran in it, the ms it waited runnable for a core]. The CPU time (from
// /proc/thread-self/schedstat) is the work done in the stall, whatever the machine's load; the wait for a core is
// the machine's load; the rest of the wall time is the thread blocked (a synchronous syscall, a page fault). Written as JSON to LOOP_STALLS_OUT
// when serve exits. Plain JavaScript: loaded before any TypeScript hook.
import { openSync, readSync, writeFileSync } from 'node:fs';

const out = process.env.LOOP_STALLS_OUT;
if (out) {
  const EVERY_MS = 5;
  const stalls = [];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  /** [ns on a core, ns runnable waiting for one] of this thread. */
  // One read of an open file (not open, read, close every 5 ms: that was 2.5% of serve's CPU in the churn bench).
  let fd;
  try { fd = openSync('/proc/thread-self/schedstat', 'r'); } catch { /* no schedstat: CPU figures 0 */ }
  const buf = Buffer.alloc(128);
  const sched = () => { try { return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)).split(' ').slice(0, 2).map(Number); } catch { return [0, 0]; } };
  let last = nowUs();
  let [lastCpu, lastWait] = sched();
  setInterval(() => {
    const t = nowUs();
    const [c, w] = sched();
    const lateMs = (t - last) / 1000 - EVERY_MS;
    if (lateMs >= 20) stalls.push([t, Math.round(lateMs), Math.round((c - lastCpu) / 1e6), Math.round((w - lastWait) / 1e6)]);
    last = t;
    lastCpu = c;
    lastWait = w;
  }, EVERY_MS).unref();
  process.once('exit', () => { try { writeFileSync(out, JSON.stringify(stalls)); } catch {} });
}
