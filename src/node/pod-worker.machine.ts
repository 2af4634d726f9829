// A pod's life on its node: pending → preparing (address, scratch folder) → starting (containers, in order) →
// running → completed (every container finished for good) ; terminating (deletion seen or pod gone) → terminated ;
// nodeStopping → stopped (the node shuts down and keeps the pod for its next start). Each container's own life,
// with its restarts and back-off, is containerMachine; the work of each step is an actor the pod worker provides.
// The definition is built once and shared by every pod (building one per pod cost ~40 state-node objects each):
// what differs per pod comes in through the input, including `host`, the worker whose methods do the work.
import { assign, setup } from 'xstate';
import { fromTask } from './task-logic.ts';

/** The work of each step, done by the pod worker that owns this actor. */
export interface PodWorkerHost {
  prepare(): Promise<Prepared>;
  startContainers(): Promise<void>;
  terminate(graceMs: number, remove: boolean): Promise<void>;
  stopForNode(): Promise<void>;
  /** Every container has finished for good. */
  allDone(): boolean;
}

export interface PodWorkerInput {
  host?: PodWorkerHost;
  /** The pod had already finished (Succeeded/Failed) when the node found it: nothing is run again. */
  terminal?: boolean;
  /** Found already marked for deletion: stop (nothing runs yet) and remove. */
  deleting?: boolean;
  graceMs?: number;
  /** Wait before preparing again after a failure (no free address…). */
  retryMs?: number;
}

export interface PodWorkerContext {
  host?: PodWorkerHost;
  /** How the pod was found: to run, already finished, or already marked for deletion. */
  found: 'new' | 'terminal' | 'deleting';
  podIP?: string;
  startTime?: string;
  error?: string;
  graceMs: number;
  /** Remove the object once stopped (graceful deletion); false when it is already gone. */
  remove: boolean;
  retryMs: number;
}

export type PodWorkerEvent =
  | { type: 'DELETE'; graceMs: number }
  | { type: 'GONE'; graceMs: number }
  | { type: 'NODE_STOP' }
  | { type: 'COMPLETED' }
  /** The eviction manager's kill: at once, the object kept (it ends Failed, reason Evicted). */
  | { type: 'EVICT' };

export interface Prepared { podIP: string; startTime: string }

export const podWorkerMachine = setup({
  types: {} as { context: PodWorkerContext; events: PodWorkerEvent; input: PodWorkerInput },
  actors: {
    prepare: fromTask<Prepared, { host?: PodWorkerHost }>((input) => {
      if (!input.host) throw new Error('prepare not provided');
      return input.host.prepare();
    }),
    startContainers: fromTask<void, { host?: PodWorkerHost }>((input) => input.host?.startContainers()),
    terminate: fromTask<void, { graceMs: number; remove: boolean; host?: PodWorkerHost }>((input) => input.host?.terminate(input.graceMs, input.remove)),
    stopForNode: fromTask<void, { host?: PodWorkerHost }>((input) => input.host?.stopForNode()),
  },
  guards: {
    allDone: ({ context }) => context.host?.allDone() ?? false,
  },
  delays: {
    retry: ({ context }) => context.retryMs,
  },
}).createMachine({
  id: 'pod',
  context: ({ input }) => ({
    host: input.host,
    // Finished and marked for deletion (the previous run died before removing it): removed, as the kubelet does.
    found: input.deleting ? 'deleting' : input.terminal ? 'terminal' : 'new',
    graceMs: input.graceMs ?? 30_000,
    remove: true,
    retryMs: input.retryMs ?? 10_000,
  }),
  initial: 'pending',
  on: {
    DELETE: { target: '.terminating', actions: assign({ graceMs: ({ event }) => event.graceMs, remove: true }) },
    GONE: { target: '.terminating', actions: assign({ graceMs: ({ event }) => event.graceMs, remove: false }) },
    NODE_STOP: '.nodeStopping',
    EVICT: { target: '.terminating', actions: assign({ graceMs: 0, remove: false }) },
  },
  states: {
    pending: {
      always: [
        { guard: ({ context }) => context.found === 'terminal', target: 'completed' },
        { guard: ({ context }) => context.found === 'deleting', target: 'terminating' },
        { target: 'preparing' },
      ],
    },
    preparing: {
      invoke: {
        src: 'prepare',
        input: ({ context }) => ({ host: context.host }),
        onDone: { target: 'starting', actions: assign(({ event }) => ({ podIP: event.output.podIP, startTime: event.output.startTime, error: undefined })) },
        onError: { target: 'prepareFailed', actions: assign({ error: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }) },
      },
    },
    prepareFailed: {
      after: { retry: 'preparing' },
    },
    starting: {
      invoke: { src: 'startContainers', input: ({ context }) => ({ host: context.host }), onDone: 'running', onError: 'running' }, // a container's own failure shows in its state
      on: { COMPLETED: {} }, // settled once every container has started
    },
    running: {
      always: { guard: 'allDone', target: 'completed' }, // they may all have finished while the last one started
      on: { COMPLETED: 'completed' },
    },
    completed: {},
    terminating: {
      invoke: {
        src: 'terminate',
        input: ({ context }) => ({ graceMs: context.graceMs, remove: context.remove, host: context.host }),
        onDone: 'terminated',
        onError: 'terminated', // the worker reports it; a worker that never ends would block the node's stop
      },
      on: { DELETE: {}, GONE: {}, NODE_STOP: {}, EVICT: {} },
    },
    terminated: { type: 'final' },
    nodeStopping: {
      invoke: { src: 'stopForNode', input: ({ context }) => ({ host: context.host }), onDone: 'stopped', onError: 'stopped' },
      on: { DELETE: {}, GONE: {}, NODE_STOP: {}, EVICT: {} },
    },
    stopped: { type: 'final' },
  },
});
