// Run by young-generation.test.ts in a process of its own (V8's flags are process-wide): with the governor on, makes
// objects that stay alive (what makes V8 grow its young generation) first in short bursts between idle waits, then
// in bursts of 150 ms (a commit now and then), then without a pause (churn). Prints the largest young generation (MB)
// seen in each phase as one JSON line.
import v8 from 'node:v8';
import { governYoungGeneration } from '../../src/cli/young-generation.ts';

const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 1024 / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let kept: unknown[] = [];
const burst = (n: number) => { for (let i = 0; i < n; i++) kept.push({ i, s: `object ${i}`, a: [i, i + 1] }); };

/** `total` objects made `chunk` at a time, `pauseMs` apart; the largest young generation seen meanwhile. */
async function phase(total: number, chunk: number, pauseMs: number): Promise<number> {
  let most = young();
  for (let made = 0; made < total; made += chunk) {
    burst(chunk);
    most = Math.max(most, young());
    await (pauseMs ? sleep(pauseMs) : new Promise((r) => setImmediate(r)));
  }
  kept = [];
  return Math.max(most, young());
}

/** `times` bursts of `ms` making objects (a commit's), `pauseMs` apart; the largest young generation seen meanwhile. */
async function bursts(times: number, ms: number, pauseMs: number): Promise<number> {
  let most = young();
  for (let t = 0; t < times; t++) {
    for (const t0 = performance.now(); performance.now() - t0 < ms;) burst(1_000);
    most = Math.max(most, young());
    kept = [];
    await sleep(pauseMs);
  }
  return Math.max(most, young());
}

// argv: `governed` or `free`, then the phases to run, in order (each from a young generation V8 has not grown yet
// only when it is the first).
const governed = process.argv[2] !== 'free';
if (governed) governYoungGeneration(100);
const phases: Record<string, () => Promise<number>> = {
  quiet: () => phase(400_000, 2_000, 40),
  // A burst of 1.5 windows is busy in at most one window in a row.
  commits: () => bursts(12, 150, 300),
  busy: () => phase(1_500_000, 20_000, 0),
};
const out: Record<string, number> = {};
for (const name of (process.argv[3] ?? 'quiet,commits,busy').split(',')) out[name] = await phases[name]();
console.log(JSON.stringify(out));
