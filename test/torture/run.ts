// npm run torture [-- --trials N] (or TORTURE_TRIALS=N) [--actions rollout,scale,delete,none]: the crash torture (trials.ts) with N trials
// (default 100) of the changes named (default: rollouts, scale-ups and deletions); exit 1 on any problem.
import { cpus, loadavg } from 'node:os';
import { runTorture, summary } from './trials.ts';

const at = process.argv.indexOf('--trials');
const trials = Number(at >= 0 ? process.argv[at + 1] : process.env.TORTURE_TRIALS ?? 100); // TORTURE_TRIALS as torture.test.ts reads it
if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials (TORTURE_TRIALS) needs a whole number, not ${at >= 0 ? process.argv[at + 1] : process.env.TORTURE_TRIALS}`);
const kinds = process.argv.includes('--actions') ? process.argv[process.argv.indexOf('--actions') + 1].split(',') : undefined;
const bad = kinds?.filter((k) => !['rollout', 'scale', 'delete', 'none'].includes(k));
if (bad?.length) throw new Error(`--actions takes rollout, scale, delete, none; not ${bad.join(', ')}`);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`machine: ${cpus().length} cores, load average ${load()}`);
const r = await runTorture({ trials, log: (l) => console.log(l), actions: kinds as Parameters<typeof runTorture>[0]['actions'] });
for (const p of r.problems) console.log(`PROBLEM ${p}`);
for (const line of summary(r)) console.log(line);
console.log(`machine: load average ${load()} at the end`);
process.exit(r.problems.length ? 1 : 0);
