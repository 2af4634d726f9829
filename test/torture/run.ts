// npm run torture [-- --trials N]: the crash torture (trials.ts) with N trials (default 100); exit 1 on any problem.
import { percentile, runTorture } from './trials.ts';

const at = process.argv.indexOf('--trials');
const trials = at >= 0 ? Number(process.argv[at + 1]) : 100;
if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials needs a whole number, not ${process.argv[at + 1]}`);
const r = await runTorture({ trials, log: (l) => console.log(l) });
for (const p of r.problems) console.log(`PROBLEM ${p}`);
console.log(`${r.trials} trials: ${r.duplicatePods} duplicate pods, ${r.duplicateProcesses} duplicate processes, ${r.orphans} orphans, ${r.restartedHealthy} restarted healthy pods`);
console.log(`convergence after kill -9 (new serve up → desired state): median ${percentile(r.convergence, 50)} ms, p99 ${percentile(r.convergence, 99)} ms, max ${Math.max(...r.convergence)} ms`);
console.log(`kill → new serve up: median ${percentile(r.startup, 50)} ms, p99 ${percentile(r.startup, 99)} ms`);
process.exit(r.problems.length ? 1 : 0);
