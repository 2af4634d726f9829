// The crash torture, short (3 trials; `npm run torture` runs 100): kill -9 of serve during rollouts, scale-ups and
// deletions never doubles a pod or a process, leaves no orphan process, and restarts no healthy pod.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { percentile, runTorture } from './trials.ts';

test('kill -9 of serve at random instants, 3 trials: no duplicate, no orphan, no healthy pod restarted', async () => {
  const r = await runTorture({ trials: Number(process.env.TORTURE_TRIALS ?? 3) });
  console.log(`    convergence median ${percentile(r.convergence, 50)} ms, max ${Math.max(...r.convergence)} ms`);
  assert.equal(r.problems, []);
  assert.equal([r.duplicatePods, r.duplicateProcesses, r.orphans, r.restartedHealthy], [0, 0, 0, 0]);
  assert.is(r.trials, Number(process.env.TORTURE_TRIALS ?? 3));
});

test.run();
