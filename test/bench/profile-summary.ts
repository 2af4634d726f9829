// The top self-time functions of a V8 .cpuprofile (node --cpu-prof), for a bench to print where its time went.
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/**
 * Lines like `  23.4%  1234 ms  parseYaml src/manifests/load.ts:12`, the `top` heaviest by self time. `window`
 * keeps only the samples taken between two instants of CLOCK_MONOTONIC in µs (a profile's own clock on Linux).
 */
export function profileSummary(file: string, top = 15, window?: { fromUs: number; toUs: number }): string[] {
  const p: Profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let at = p.startTime;
  // Each sample's time is the delta to the next one; it is charged to the function on top of the stack.
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const n = byId.get(p.samples[i])!;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}% ${v.toFixed(0).padStart(6)} ms  ${k}`);
}
