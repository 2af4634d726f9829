import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from 'xstate';
import { tally } from '../../src/node/prober.machine.ts';
import { firstProbeDelayMs, Prober, proberTimings } from '../../src/node/prober.ts';
import { probeOnce, type Probe, type ProbeResult } from '../../src/node/probes.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { until } from '../support/wait.ts';

/** Lets settled check promises reach the machine. */
const flush = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

/** A prober on a simulated clock whose check answers from `answers` (true/false, or 'hang' to never answer). */
function scripted(probe: Probe, answers: (boolean | 'hang')[], initial?: boolean, extra: { startedAt?: Date; jitter?: boolean; random?: () => number; now?: () => number } = {}) {
  const clock = new SimulatedClock();
  const changes: [boolean, string | undefined][] = [];
  const results: ProbeResult[] = [];
  const calls: { timeoutMs: number }[] = [];
  const prober = new Prober({
    probe, clock, initial, ...extra,
    check: async (opts) => {
      calls.push(opts);
      const a = answers[Math.min(calls.length - 1, answers.length - 1)];
      if (a === 'hang') return new Promise<ProbeResult>(() => {});
      return a ? { ok: true } : { ok: false, message: `failure ${calls.length}` };
    },
    onChange: (ok, message) => changes.push([ok, message]),
    onResult: (r) => results.push(r),
  });
  /** Moves simulated time on by `ms` and lets the check results arrive. */
  const advance = async (ms: number) => { clock.increment(ms); await flush(); };
  return { prober, clock, changes, results, calls, advance };
}

test('Kubernetes defaults and scaled seconds', () => {
  assert.equal(proberTimings({}), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 });
  assert.equal(proberTimings({ initialDelaySeconds: 2, periodSeconds: 5, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 1 }, 10),
    { initialDelayMs: 20, periodMs: 50, timeoutMs: 30, successThreshold: 2, failureThreshold: 1 });
});

test('tally flips a verdict only after enough results in a row', () => {
  const t = { ok: false, last: undefined, run: 0, successThreshold: 2, failureThreshold: 3 };
  const a = tally(t, true);
  assert.equal(a, { last: true, run: 1, ok: false });
  assert.equal(tally({ ...t, ...a }, true), { last: true, run: 2, ok: true });
  assert.equal(tally({ ...t, ...a }, false), { last: false, run: 1, ok: false });
});

test('nothing is probed before initialDelay; then a success makes it ready', async () => {
  const { prober, changes, calls, advance } = scripted({ initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2 }, [true]);
  prober.start();
  assert.is(prober.ok, false, 'readiness starts false');
  await advance(4999);
  assert.is(calls.length, 0);
  await advance(1);
  assert.equal(calls, [{ timeoutMs: 2000 }]);
  assert.equal(changes, [[true, undefined]]);
  assert.is(prober.ok, true);
  await advance(10_000);
  assert.is(calls.length, 2, 'then every period');
  assert.equal(changes.length, 1, 'no change, no report');
  prober.stop();
});

test('failureThreshold failures in a row make it unready, with the last message', async () => {
  const { prober, changes, results, advance } = scripted({ periodSeconds: 1 }, [true, false, false, true, false, false, false]);
  prober.start();
  await flush();
  assert.equal(changes, [[true, undefined]]);
  await advance(1000); await advance(1000); await advance(1000); // false, false, true: the run is broken
  assert.equal(changes.length, 1);
  await advance(1000); await advance(1000);
  assert.equal(changes.length, 1, 'two failures are not three');
  await advance(1000);
  assert.equal(changes, [[true, undefined], [false, 'failure 7']]);
  assert.equal(results.length, 7);
  prober.stop();
});

test('successThreshold successes in a row are needed to become ready', async () => {
  const { prober, changes, advance } = scripted({ periodSeconds: 1, successThreshold: 2 }, [true, false, true, true]);
  prober.start();
  await flush();
  await advance(1000); await advance(1000);
  assert.equal(changes, []);
  await advance(1000);
  assert.equal(changes, [[true, undefined]]);
  prober.stop();
});

test('liveness starts alive and dies after failureThreshold failures', async () => {
  const { prober, changes, advance } = scripted({ periodSeconds: 1, failureThreshold: 2 }, [false], true);
  prober.start();
  assert.is(prober.ok, true);
  await flush();
  assert.equal(changes, []);
  await advance(1000);
  assert.equal(changes, [[false, 'failure 2']]);
  prober.stop();
});

test('a check that never answers is given up and counted as a failure; periods count from probe starts', async () => {
  const { prober, results, calls, advance } = scripted({ periodSeconds: 10, timeoutSeconds: 1 }, ['hang', true]);
  prober.start();
  await flush();
  await advance(1999);
  assert.equal(results, []);
  await advance(1);
  assert.equal(results, [{ ok: false, message: 'probe timed out after 1000ms' }]);
  await advance(7999);
  assert.is(calls.length, 1);
  await advance(1);
  assert.is(calls.length, 2, 'the second probe starts 10 s after the first started');
  prober.stop();
});

test('a probe slower than its period is followed at once by the next', async () => {
  const { prober, calls, results, advance } = scripted({ periodSeconds: 1, timeoutSeconds: 5 }, ['hang', true]);
  prober.start();
  await flush();
  await advance(1000); // a period passes while the first probe hangs
  assert.is(calls.length, 1);
  await advance(9000); // given up at 10 s: the overdue probe starts right away
  assert.is(calls.length, 2);
  assert.equal(results.map((r) => r.ok), [false, true]);
  prober.stop();
});

test('stop ends probing; start probes afresh', async () => {
  const { prober, calls, changes, advance } = scripted({ periodSeconds: 1 }, [true]);
  prober.start();
  await flush();
  prober.stop();
  await advance(5000);
  assert.is(calls.length, 1);
  prober.start();
  assert.is(prober.ok, false);
  await flush();
  assert.is(calls.length, 2);
  assert.equal(changes, [[true, undefined], [true, undefined]]);
  prober.stop();
});

test('first probe: what is left of the initial delay since the container started, or a jittered part of a period', () => {
  const t = { initialDelayMs: 5000, periodMs: 1000 };
  const now = () => Date.parse('2026-01-01T00:00:10Z');
  assert.is(firstProbeDelayMs(t, {}), 5000, 'a container starting now waits all of it');
  assert.is(firstProbeDelayMs(t, { startedAt: new Date('2026-01-01T00:00:07Z'), now }), 2000, 'started 3 s ago: 2 s left');
  assert.is(firstProbeDelayMs(t, { startedAt: new Date('2026-01-01T00:00:01Z'), now }), 0, 'started 9 s ago: none left');
  assert.is(firstProbeDelayMs({ initialDelayMs: 0, periodMs: 1000 }, { jitter: true, random: () => 0.25 }), 250, 'jitter within one period');
  assert.is(firstProbeDelayMs(t, { jitter: true, random: () => 0.99 }), 5000, 'jitter never shortens the initial delay');
});

test('a re-adopted container started 3 s ago with initialDelaySeconds 5 is first probed 2 s later, not 5', async () => {
  const startedAt = new Date(Date.now() - 3000);
  const { prober, calls, changes, advance } = scripted({ initialDelaySeconds: 5, periodSeconds: 10 }, [true], false, { startedAt, now: () => startedAt.getTime() + 3000 });
  prober.start();
  await advance(1999);
  assert.is(calls.length, 0);
  await advance(1);
  assert.is(calls.length, 1);
  assert.equal(changes, [[true, undefined]]);
  prober.stop();
});

test('jitter: a verdict carried over is kept until the first probe, a random part of a period later', async () => {
  const { prober, calls, changes, advance } = scripted({ periodSeconds: 10 }, [false], true, { jitter: true, random: () => 0.4 });
  prober.start();
  await advance(3999);
  assert.equal([calls.length, prober.ok], [0, true]);
  await advance(1);
  assert.is(calls.length, 1);
  assert.equal(changes, [], 'one failure is below failureThreshold 3');
  prober.stop();
});

test('with scaled seconds, a real HTTP readiness probe follows the server', async () => {
  let healthy = false;
  const server = createServer((_req, res) => res.writeHead(healthy ? 200 : 503).end());
  await new Promise<void>((r) => server.listen(0, '127.1.0.9', r));
  const port = (server.address() as AddressInfo).port;
  const probe: Probe = { httpGet: { path: '/ready', port }, periodSeconds: 1, failureThreshold: 2 };
  const changes: boolean[] = [];
  const prober = new Prober({
    probe, msPerSecond: 20,
    check: ({ timeoutMs }) => probeOnce(probe, {
      podIP: '127.1.0.9', ports: [], runtime: new ProcessRuntime(), timeoutMs,
      launch: { id: 'default/web-x/web', argv: ['true'], env: {}, cwd: '/', logFile: '/dev/null' },
    }),
    onChange: (ok) => changes.push(ok),
  });
  try {
    prober.start();
    healthy = true;
    await until(() => prober.ok, 'ready');
    healthy = false;
    await until(() => !prober.ok, 'unready');
    assert.equal(changes, [true, false]);
  } finally {
    prober.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test.run();
