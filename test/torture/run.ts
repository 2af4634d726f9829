// npm run torture [-- --trials N]: the crash torture (trials.ts) with N trials (default 100); exit 1 on any problem.
import { cpus, loadavg } from 'node:os';
import { runTorture, summary } from './trials.ts';

const at = process.argv.indexOf('--trials');
const trials = at >= 0 ? Number(process.argv[at + 1]) : 100;
if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials needs a whole number, not ${process.argv[at + 1]}`);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`machine: ${cpus().length} cores, load average ${load()}`);
const r = await runTorture({ trials, log: (l) => console.log(l) });
for (const p of r.problems) console.log(`PROBLEM ${p}`);
for (const line of summary(r)) console.log(line);
console.log(`machine: load average ${load()} at the end`);
process.exit(r.problems.length ? 1 : 0);
