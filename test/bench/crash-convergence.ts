// `npm run bench`, crash part: kill -9 of serve during rollouts, scale-ups and deletions (the torture's trials,
// fewer of them), and how long the new serve takes from being up to the desired state: raw, and less what the
// change in flight still needed without a crash (the restart's own cost; see test/torture/trials.ts). Asserts nothing.
import { loadavg } from 'node:os';
import { runTorture, summary } from '../torture/trials.ts';

export async function crashConvergence(trials = Number(process.env.CRASH_TRIALS ?? 12)) {
  const log = process.env.CRASH_LOG ? (l: string) => console.log(`  ${l}`) : undefined;
  for (const [what, actions] of [['during rollouts, scale-ups and deletions', undefined], ['with nothing in flight', ['none' as const]]] as const) {
    const r = await runTorture({ trials, log, actions: actions && [...actions] });
    console.log(`\nkill -9 of serve ${what}, ${r.trials} trials (load average ${loadavg()[0].toFixed(1)}):`);
    for (const line of summary(r)) console.log(`  ${line}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await crashConvergence();
