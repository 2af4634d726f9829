// `npm run bench`, crash part: kill -9 of serve during rollouts, scale-ups and deletions (the torture's trials,
// fewer of them), and how long the new serve takes from being up to the desired state. Asserts nothing.
import { percentile, runTorture } from '../torture/trials.ts';

export async function crashConvergence(trials = Number(process.env.CRASH_TRIALS ?? 12)) {
  const log = process.env.CRASH_LOG ? (l: string) => console.log(`  ${l}`) : undefined;
  const figures = (xs: number[]) => `p50 ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${Math.max(...xs)} ms`;
  // During changes the time includes what the change itself still had to do (new pods starting, probes passing);
  // with nothing in flight it is the restart's own cost.
  for (const [what, actions] of [['during rollouts, scale-ups and deletions', undefined], ['with nothing in flight', ['none' as const]]] as const) {
    const r = await runTorture({ trials, log, actions: actions && [...actions] });
    console.log(`\nkill -9 of serve ${what}, ${r.trials} trials:`);
    console.log(`  new serve up → desired state: ${figures(r.convergence)}   (target p99 ≤ 2 s)`);
    console.log(`  kill → new serve up (modules, store, re-adoption): ${figures(r.startup)}`);
    console.log(`  ${r.duplicatePods} duplicate pods, ${r.duplicateProcesses} duplicate processes, ${r.orphans} orphans, ${r.restartedHealthy} restarted healthy pods`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await crashConvergence();
