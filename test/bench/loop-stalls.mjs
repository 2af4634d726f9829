// Preloaded into serve by a bench (node --import): records every event-loop stall of 20 ms or more (a 5 ms timer
// that fired late) as [the CLOCK_MONOTONIC µs it ended (the clock of serve's --cpu-prof samples), its wall ms, the
// CPU ms serve's main thread ran in it]. The CPU time (from /proc/thread-self/schedstat) is the work done in the
// stall, whatever the machine's load; the wall time is what a request waited. Written as JSON to LOOP_STALLS_OUT
// when serve exits. Plain JavaScript: loaded before any TypeScript hook.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.LOOP_STALLS_OUT;
if (out) {
  const EVERY_MS = 5;
  const stalls = [];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const cpuUs = () => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1000; } catch { return 0; } };
  let last = nowUs();
  let lastCpu = cpuUs();
  setInterval(() => {
    const t = nowUs();
    const c = cpuUs();
    const lateMs = (t - last) / 1000 - EVERY_MS;
    if (lateMs >= 20) stalls.push([t, Math.round(lateMs), Math.round((c - lastCpu) / 1000)]);
    last = t;
    lastCpu = c;
  }, EVERY_MS).unref();
  process.once('exit', () => { try { writeFileSync(out, JSON.stringify(stalls)); } catch {} });
}
