// What serve's memory holds, read through test/bench/memory-probe.mjs: heap, external and array buffers after a full
// garbage collection, beside the resident set now and at its peak (/proc). The bench passes `memoryProbe(file)`'s
// node arguments and environment to startServe, then calls `memoryOf(pid, file)` at the moments it reports.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { until } from '../support/wait.ts';

const PROBE = new URL('./memory-probe.mjs', import.meta.url).pathname;
const mb = (bytes: number) => bytes / 1024 / 1024;

/** Node arguments and environment for a serve whose memory `memoryOf` reads through `file`. */
export function memoryProbe(file: string, snapshot = Boolean(process.env.HEAP_SNAPSHOT)) {
  return { nodeArgs: ['--expose-gc', `--import=${PROBE}`], env: { ...process.env, CONVERGIT_MEMORY_PROBE: file, ...(snapshot && { CONVERGIT_MEMORY_SNAPSHOT: '1' }) } };
}

const status = (pid: number, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export interface ServeMemory { rss: number; peak: number; rssAfterGc: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; spaces: Record<string, { used: number; committed: number; physical: number }>; snapshot?: string }

/** MB: the resident set and its peak before, then heap, external and the resident set after a full collection. */
export async function memoryOf(pid: number, file: string): Promise<ServeMemory> {
  const rss = status(pid, 'VmRSS'), peak = status(pid, 'VmHWM');
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const m = await until(() => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')), 'serve to report its memory', 600_000);
  return { rss, peak, rssAfterGc: status(pid, 'VmRSS'), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers),
    spaces: Object.fromEntries(Object.entries(m.spaces as ServeMemory['spaces']).map(([k, v]) => [k, { used: mb(v.used), committed: mb(v.committed), physical: mb(v.physical) }])), snapshot: m.snapshot };
}

/** One line: `rss 310 MB (peak 378), after a full GC: heap 180 MB, external 12 MB (array buffers 3), rss 290 MB`. */
export const showMemory = (m: ServeMemory) =>
  `rss ${m.rss.toFixed(0)} MB (peak ${m.peak.toFixed(0)}), after a full GC: heap ${m.heapUsed.toFixed(0)} MB of ${m.heapTotal.toFixed(0)}, external ${m.external.toFixed(0)} MB (array buffers ${m.arrayBuffers.toFixed(0)}), rss ${m.rssAfterGc.toFixed(0)} MB`;
