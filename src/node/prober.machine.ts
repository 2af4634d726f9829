// One probe of one container over time: wait initialDelay, probe every period (each bounded by its timeout),
// count consecutive results against the thresholds, and emit 'change' when the verdict flips.
import { assign, enqueueActions, raise, setup } from 'xstate';
import { fromTask } from './task-logic.ts';
import type { ProbeResult } from './probes.ts';

export interface ProberInput {
  /** One probe attempt, which should honour timeoutMs itself. Given per actor, so the definition is shared. */
  check?: (opts: { timeoutMs: number }) => Promise<ProbeResult>;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** The verdict before any probe: false for readiness and startup, true for liveness (as the kubelet starts them). */
  initial: boolean;
}

export interface ProberContext extends ProberInput {
  /** The verdict reported: changes only when a threshold is met. */
  ok: boolean;
  /** The last raw result, and how many times in a row it came. */
  last?: boolean;
  run: number;
  /** A period ended while a probe was still running: probe again as soon as it is done (as Go's ticker does). */
  due: boolean;
}

export type ProberEmitted =
  | { type: 'result'; ok: boolean; message?: string }
  | { type: 'change'; ok: boolean; message?: string };

/** The kubelet's rule: a verdict flips after successThreshold successes, or failureThreshold failures, in a row. */
export function tally(c: Pick<ProberContext, 'ok' | 'last' | 'run' | 'successThreshold' | 'failureThreshold'>, ok: boolean) {
  const run = c.last === ok ? c.run + 1 : 1;
  const flips = ok !== c.ok && run >= (ok ? c.successThreshold : c.failureThreshold);
  return { last: ok, run, ok: flips ? ok : c.ok };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const proberMachine = setup({
  types: {} as { context: ProberContext; input: ProberInput; events: { type: 'TICK' }; emitted: ProberEmitted },
  actors: {
    check: fromTask<ProbeResult, { timeoutMs: number; check?: ProberInput['check'] }>((input) =>
      input.check ? input.check({ timeoutMs: input.timeoutMs }) : { ok: false, message: 'check not provided' }),
  },
  delays: {
    initialDelay: ({ context }) => context.initialDelayMs,
    period: ({ context }) => context.periodMs,
    // A check that ignores its timeout must not stall the prober: it is given up at twice the timeout.
    giveUp: ({ context }) => context.timeoutMs * 2,
  },
  actions: {
    record: enqueueActions(({ context, enqueue }, result: ProbeResult) => {
      const next = tally(context, result.ok);
      enqueue.assign(next);
      enqueue.emit({ type: 'result', ok: result.ok, message: result.message });
      if (next.ok !== context.ok) enqueue.emit({ type: 'change', ok: next.ok, message: result.message });
    }),
  },
  guards: {
    due: ({ context }) => context.due,
    noDelay: ({ context }) => context.initialDelayMs <= 0,
  },
}).createMachine({
  id: 'prober',
  context: ({ input }) => ({ ...input, ok: input.initial, run: 0, due: false }),
  initial: 'delaying',
  states: {
    // No delay means at once, not at the next timer turn (a simulated clock would otherwise wait for a tick).
    delaying: { always: { guard: 'noDelay', target: 'running' }, after: { initialDelay: 'running' } },
    running: {
      type: 'parallel',
      states: {
        // Periods are counted from probe starts, not ends, so a slow probe does not stretch the period.
        ticker: {
          initial: 'waiting',
          states: { waiting: { after: { period: { target: 'waiting', reenter: true, actions: raise({ type: 'TICK' }) } } } },
        },
        probe: {
          initial: 'probing',
          states: {
            probing: {
              entry: assign({ due: false }),
              invoke: {
                src: 'check',
                input: ({ context }) => ({ timeoutMs: context.timeoutMs, check: context.check }),
                onDone: { target: 'settled', actions: { type: 'record', params: ({ event }) => event.output } },
                onError: { target: 'settled', actions: { type: 'record', params: ({ event }) => ({ ok: false, message: message(event.error) }) } },
              },
              after: {
                giveUp: { target: 'settled', actions: { type: 'record', params: ({ context }) => ({ ok: false, message: `probe timed out after ${context.timeoutMs}ms` }) } },
              },
              on: { TICK: { actions: assign({ due: true }) } },
            },
            settled: { always: [{ guard: 'due', target: 'probing' }, { target: 'idle' }] },
            idle: { on: { TICK: 'probing' } },
          },
        },
      },
    },
  },
});
