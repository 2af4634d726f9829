// The top functions of a V8 .cpuprofile (node --cpu-prof), for a bench to print where its time went.
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

// tsx compiles each module to few long lines: the column tells two functions of one file apart.
const keyOf = (n: ProfileNode) => {
  const { functionName, url, lineNumber, columnNumber } = n.callFrame;
  const where = url ? `${url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${lineNumber + 1}:${(columnNumber ?? 0) + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

/**
 * Where a profile's own code ran from: serve runs build/bundle/ (or build/, compiled) when it is fresh, else src/
 * through tsx. What `only` should be for convergit's own functions.
 */
export const ownFolderOf = (file: string) => ownFolderIn(JSON.parse(readFileSync(file, 'utf8')));
const ownFolderIn = (p: Profile): 'build/' | 'src/' =>
  p.nodes.some(({ callFrame: { url } }) => url.includes('/build/bundle/') || url.includes('/build/cli/')) ? 'build/' : 'src/';

/**
 * Lines like `  23.4%  1234 ms  parseYaml src/manifests/load.ts:12:5`, the `top` heaviest by self time, or with
 * `inclusive` by total time (the function and what it calls), limited to frames whose key contains `only`
 * (e.g. 'src/', so the project's own functions show which of them the time is spent under). `window` keeps only the
 * samples taken between two instants of CLOCK_MONOTONIC in µs (a profile's own clock on Linux): one phase of a run.
 */
export function profileSummary(file: string, top = 15, opts: { inclusive?: boolean; only?: string; window?: { fromUs: number; toUs: number } } = {}): string[] {
  const p: Profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map<string, number>();
  let total = 0;
  let at = p.startTime;
  // Each sample's time is the delta to the next one; it is charged to the function on top of the stack (self), or
  // once to every function on the stack (inclusive; recursion counted once).
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (opts.window && (at < opts.window.fromUs || at > opts.window.toUs)) continue;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    total += dt;
    if (!opts.inclusive) {
      const key = keyOf(byId.get(p.samples[i])!);
      time.set(key, (time.get(key) ?? 0) + dt);
      continue;
    }
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
      const key = keyOf(byId.get(id)!);
      if (seen.has(key)) continue;
      seen.add(key);
      time.set(key, (time.get(key) ?? 0) + dt);
    }
  }
  return [...time.entries()].filter(([k]) => !opts.only || k.includes(opts.only)).sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}% ${v.toFixed(0).padStart(6)} ms  ${k}`);
}

/**
 * What ran in each of the given event-loop stalls (`[endUs, ms]`, CLOCK_MONOTONIC as the profile's samples, from
 * test/bench/loop-stalls.mjs), in their order: the functions with most self time in it and the project's
 * functions (under src/, or build/ when it ran from there) it spent most time under, innermost of those that cover half the stall.
 */
export function stallSummary(file: string, stalls: [number, number][]): string[] {
  const p: Profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times: number[] = [];
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) times.push((at += p.timeDeltas[i] ?? 0));
  const short = (k: string) => k.replace(/ .*\//, ' ');
  const ownFolder = ownFolderIn(p);
  return stalls.map(([endUs, ms]) => {
    const fromUs = endUs - ms * 1000;
    const self = new Map<string, number>();
    const own = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < p.samples.length; i++) {
      if (times[i] < fromUs || times[i] > endUs) continue;
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
      total += dt;
      const k = keyOf(byId.get(p.samples[i])!);
      self.set(k, (self.get(k) ?? 0) + dt);
      const seen = new Set<string>();
      for (let n: number | undefined = p.samples[i]; n !== undefined; n = parent.get(n)) {
        const key = keyOf(byId.get(n)!);
        if (!key.includes(ownFolder) || seen.has(key)) continue;
        seen.add(key);
        own.set(key, (own.get(key) ?? 0) + dt);
      }
    }
    const best = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([f, v]) => `${short(f)} ${v.toFixed(0)}`);
    const under = [...own.entries()].sort((a, b) => b[1] - a[1]).filter(([, v]) => v >= 0.5 * total).slice(-3).map(([f, v]) => `${short(f)} ${v.toFixed(0)}`);
    return `${String(ms).padStart(5)} ms wall (${total.toFixed(0)} ms sampled) under ${under.join(' < ') || '-'}; self: ${best(self, 3).join(', ')}`;
  });
}
