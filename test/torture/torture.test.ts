// The crash torture, short (3 trials; `npm run torture` runs 100): kill -9 of serve during rollouts, scale-ups and
// deletions never doubles a pod or a process, leaves no orphan process, and restarts no healthy pod.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runTorture, summary } from './trials.ts';

test('kill -9 of serve at random instants, 3 trials: no duplicate, no orphan, no healthy pod restarted', async () => {
  const r = await runTorture({ trials: Number(process.env.TORTURE_TRIALS ?? 3), controls: false }); // the checks; npm run torture times
  for (const line of summary(r)) console.log(`    ${line}`);
  assert.equal(r.problems, []);
  assert.equal([r.duplicatePods, r.duplicateProcesses, r.orphans, r.restartedHealthy, r.lateSyncs], [0, 0, 0, 0, 0]);
  assert.is(r.trials, Number(process.env.TORTURE_TRIALS ?? 3));
  assert.is(r.restartCost.length, r.trials);
});

test.run();
