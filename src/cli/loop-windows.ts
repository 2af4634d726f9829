import { performance } from 'node:perf_hooks';

/**
 * Calls `each` every `windowMs` with the share of that window serve was busy (0 to 1): how serve tells a burst of
 * work from quiet. The event loop's busy share, but no more than the process's CPU over the window: on a loaded
 * machine a burst that waited for a core keeps the loop busy longer by the wall clock without being more work (a
 * descheduled commit's 90 ms burst looked like churn beside a CI shard running podman). The timer is unref'd (it
 * keeps no process alive); clear it to stop.
 */
export function everyLoopWindow(windowMs: number, each: (busy: number) => void): NodeJS.Timeout {
  let last = performance.eventLoopUtilization();
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization(), cpu = process.cpuUsage();
    const window = performance.eventLoopUtilization(now, last);
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    last = now;
    lastCpu = cpu;
    const wallMs = window.idle + window.active;
    const cpuShare = wallMs > 0 ? cpuMs / wallMs : 0;
    each(Math.min(window.utilization, cpuShare));
  }, windowMs);
  return timer.unref();
}
