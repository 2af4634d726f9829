// One pending pod's place in the scheduling queue, after kube-scheduler's activeQ / backoffQ / unschedulablePods:
//   active ──POP──► scheduling ──BOUND──► bound
//                     │ FAILED (fits nowhere) or ERROR (write failed, conflict)
//                     ▼
//                   backoff (1 s doubling to 10 s) ──► unschedulable ──MOVE (a node or pod changed)──► active
// A MOVE while scheduling or backing off is remembered, so the pod retries as soon as its backoff ends instead of
// waiting for another change (kube-scheduler's moveRequestCycle). A pod left unschedulable too long is retried
// anyway (podMaxInUnschedulablePodsDuration), in case a change was missed.
// One machine per pod rather than one for the whole queue: each pod has its own timer and attempt count, and
// xstate's `after` then gives each its own cancellable backoff; the order of active pods lives in the shell.
import { assign, setup } from 'xstate';

export interface PodQueueInput {
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  unschedulableTimeoutMs?: number;
}

export interface PodQueueContext {
  /** Failed scheduling attempts so far; sets the backoff. */
  attempts: number;
  /** The cluster changed since this pod's last attempt began. */
  moveRequested: boolean;
  backoffInitialMs: number;
  backoffMaxMs: number;
  unschedulableTimeoutMs: number;
}

export type PodQueueEvent = { type: 'POP' } | { type: 'BOUND' } | { type: 'FAILED' } | { type: 'ERROR' } | { type: 'MOVE' };

export type PodQueueState = 'active' | 'scheduling' | 'backoff' | 'unschedulable' | 'bound';

/** kube-scheduler's calculateBackoffDuration: initial, doubled per further attempt, capped at max. */
export const backoffDelay = (c: Pick<PodQueueContext, 'attempts' | 'backoffInitialMs' | 'backoffMaxMs'>) =>
  Math.min(c.backoffMaxMs, c.backoffInitialMs * 2 ** Math.max(0, c.attempts - 1));

export const podQueueMachine = setup({
  types: {} as { context: PodQueueContext; events: PodQueueEvent; input: PodQueueInput },
  delays: {
    backoff: ({ context }) => backoffDelay(context),
    unschedulableTimeout: ({ context }) => context.unschedulableTimeoutMs,
  },
  actions: {
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    requestMove: assign({ moveRequested: true }),
    clearMove: assign({ moveRequested: false }),
  },
  guards: {
    moveRequested: ({ context }) => context.moveRequested,
  },
}).createMachine({
  id: 'podQueue',
  context: ({ input }) => ({
    attempts: 0,
    moveRequested: false,
    backoffInitialMs: input.backoffInitialMs ?? 1000,
    backoffMaxMs: input.backoffMaxMs ?? 10_000,
    unschedulableTimeoutMs: input.unschedulableTimeoutMs ?? 5 * 60_000,
  }),
  initial: 'active',
  states: {
    active: {
      on: { POP: 'scheduling' },
    },
    scheduling: {
      entry: 'clearMove',
      on: {
        BOUND: 'bound',
        FAILED: { target: 'backoff', actions: 'countAttempt' },
        // A failed write says nothing about capacity: retry after the backoff without waiting for a change.
        ERROR: { target: 'backoff', actions: ['countAttempt', 'requestMove'] },
        MOVE: { actions: 'requestMove' },
      },
    },
    backoff: {
      on: { MOVE: { actions: 'requestMove' } },
      after: {
        backoff: [{ guard: 'moveRequested', target: 'active' }, { target: 'unschedulable' }],
      },
    },
    unschedulable: {
      on: { MOVE: 'active' },
      after: { unschedulableTimeout: 'active' },
    },
    bound: { type: 'final' },
  },
});
