// What serve's memory holds, read through test/bench/memory-probe.mjs: heap, external and array buffers after a full
// garbage collection, beside the resident set now and at its peak (/proc). The bench passes `memoryProbe(file)`'s
// node arguments and environment to startServe, then calls `memoryOf(pid, file)` at the moments it reports.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { until } from '../support/wait.ts';

const PROBE = new URL('./memory-probe.mjs', import.meta.url).pathname;
const mb = (bytes: number) => bytes / 1024 / 1024;

/**
 * Node arguments and environment for a serve whose memory `memoryOf` reads through `file`. The probe is preloaded
 * through NODE_OPTIONS and exposes gc itself when asked: node arguments and V8 flags of its own would key serve's code
 * cache apart from a plain start's (bin/run-bundle.js), so the bench's serve would never start as a user's does. It
 * shares a plain serve's cache file, so the probe leaves V8's flags as they were.
 */
export function memoryProbe(file: string, snapshot = Boolean(process.env.HEAP_SNAPSHOT)) {
  const nodeOptions = [process.env.NODE_OPTIONS, `--import=${PROBE}`].filter(Boolean).join(' ');
  return { nodeArgs: [] as string[], env: { ...process.env, NODE_OPTIONS: nodeOptions, CONVERGIT_MEMORY_PROBE: file, ...(snapshot && { CONVERGIT_MEMORY_SNAPSHOT: '1' }) } };
}

const status = (pid: number, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

type Spaces = Record<string, { used: number; committed: number; physical: number }>;
export interface ServeMemory {
  rss: number; peak: number; rssAfterGc: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; spaces: Spaces;
  /** Before the collection: the heap as serve was running it (young generation, garbage not yet collected). */
  before: { heapUsed: number; heapTotal: number; external: number; spaces: Spaces };
  snapshot?: string;
}
const spacesMb = (s: Record<string, { used: number; committed: number; physical: number }>): Spaces =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, { used: mb(v.used), committed: mb(v.committed), physical: mb(v.physical) }]));

/** MB: the resident set and its peak before, then heap, external and the resident set after a full collection. */
export async function memoryOf(pid: number, file: string): Promise<ServeMemory> {
  const rss = status(pid, 'VmRSS'), peak = status(pid, 'VmHWM');
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const m = await until(() => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')), 'serve to report its memory', 600_000);
  return { rss, peak, rssAfterGc: status(pid, 'VmRSS'), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers),
    spaces: spacesMb(m.spaces), before: { heapUsed: mb(m.before.heapUsed), heapTotal: mb(m.before.heapTotal), external: mb(m.before.external), spaces: spacesMb(m.before.spaces) }, snapshot: m.snapshot };
}

/** One line: `rss 310 MB (peak 378), after a full GC: heap 180 MB, external 12 MB (array buffers 3), rss 290 MB`. */
export const showMemory = (m: ServeMemory) =>
  `rss ${m.rss.toFixed(0)} MB (peak ${m.peak.toFixed(0)}), after a full GC: heap ${m.heapUsed.toFixed(0)} MB of ${m.heapTotal.toFixed(0)}, external ${m.external.toFixed(0)} MB (array buffers ${m.arrayBuffers.toFixed(0)}), rss ${m.rssAfterGc.toFixed(0)} MB`;

/** V8's heap spaces before and after the collection, `old 110/160` (used/committed MB), the big ones only. */
export const showSpaces = (m: ServeMemory) => {
  const short: Record<string, string> = { new_space: 'young', new_large_object_space: 'young-large', old_space: 'old', code_space: 'code', map_space: 'map', large_object_space: 'large', code_large_object_space: 'code-large', read_only_space: 'ro' };
  const one = (s: Spaces) => Object.entries(s).filter(([, v]) => v.committed >= 1).map(([k, v]) => `${short[k] ?? k} ${v.used.toFixed(0)}/${v.committed.toFixed(0)}`).join(', ');
  return `heap spaces (used/committed MB) before the GC: ${one(m.before.spaces)} (heap ${m.before.heapUsed.toFixed(0)} of ${m.before.heapTotal.toFixed(0)}, external ${m.before.external.toFixed(0)}); after: ${one(m.spaces)}`;
};
