// A pod's life on its node: pending → launch (preparing: address, scratch folder; then starting: containers, in
// order) → running → completed (every container finished for good) ; terminating (deletion seen or pod gone) → terminated ;
// nodeStopping → stopped (the node shuts down and keeps the pod for its next start). Each container's own life,
// with its restarts and back-off, is containerMachine; the work of each step is an actor the pod worker provides.
// The definition is built once and shared by every pod (building one per pod cost ~40 state-node objects each):
// what differs per pod comes in through the input, including `host`, the worker whose methods do the work.
import { assign, fromCallback, setup } from 'xstate';
import { attempt, fromTask } from './task-logic.ts';

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
  | { type: 'EVICT' }
  /** From the `launch` actor: the pod has its address and folder; its containers have been started (or failed to be). */
  | { type: 'PREPARED'; prepared: Prepared }
  | { type: 'PREPARE_FAILED'; error: unknown }
  | { type: 'STARTED' };

export interface Prepared { podIP: string; startTime: string }

export const podWorkerMachine = setup({
  types: {} as { context: PodWorkerContext; events: PodWorkerEvent; input: PodWorkerInput },
  actors: {
    // One actor for the pod's start: prepare, then start the containers (a prepare actor, then a start actor, were
    // two actors made for every pod). Stopped when the machine leaves `launch` (a deletion, the node stopping): what
    // it sends after that is dropped, and the containers are not started once it was stopped while preparing.
    launch: fromCallback<PodWorkerEvent, { host?: PodWorkerHost }>(({ input, sendBack }) => {
      const { host } = input;
      let stopped = false;
      if (!host) sendBack({ type: 'PREPARE_FAILED', error: new Error('prepare not provided') });
      else {
        attempt(() => host.prepare()).then((prepared) => {
          sendBack({ type: 'PREPARED', prepared });
          // A container's own failure shows in its state: started or not, the pod runs.
          if (!stopped) void attempt(() => host.startContainers()).catch(() => {}).then(() => sendBack({ type: 'STARTED' }));
        }, (error) => sendBack({ type: 'PREPARE_FAILED', error }));
      }
      return () => { stopped = true; };
    }),
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
        { target: 'launch' },
      ],
    },
    launch: {
      invoke: { src: 'launch', input: ({ context }) => ({ host: context.host }) },
      initial: 'preparing',
      states: {
        preparing: {
          on: {
            PREPARED: { target: 'starting', actions: assign(({ event }) => ({ podIP: event.prepared.podIP, startTime: event.prepared.startTime, error: undefined })) },
            PREPARE_FAILED: { target: '#pod.prepareFailed', actions: assign({ error: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }) },
          },
        },
        starting: {
          on: {
            STARTED: '#pod.running',
            COMPLETED: {}, // settled once every container has started
          },
        },
      },
    },
    prepareFailed: {
      after: { retry: 'launch' },
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
