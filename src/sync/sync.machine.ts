// The sync loop's lifecycle: idle → fetching → loading → validating → planning → applying → synced,
// with failed (retry with exponential backoff) and suspended. The work of each step is an injected actor.
import { assign, fromPromise, setup } from 'xstate';
import type { Issue } from '../model/issue.ts';

export interface StepResult {
  /** Validation errors: the revision is refused as a whole. */
  errors?: Issue[];
}

export interface SyncContext {
  head?: string;
  lastApplied?: string;
  /** Head changed (or a retry was asked for) while a sync was running: run again once it ends. */
  pending: boolean;
  suspendRequested: boolean;
  attempt: number;
  error?: string;
  errors: Issue[];
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface SyncInput {
  lastApplied?: string;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export type SyncEvent = { type: 'CHANGE' } | { type: 'SUSPEND' } | { type: 'RESUME' };

/** How long `failed` waits before retrying: base, doubling per attempt, up to max. */
export const retryDelay = (c: Pick<SyncContext, 'attempt' | 'retryBaseMs' | 'retryMaxMs'>) =>
  Math.min(c.retryMaxMs, c.retryBaseMs * 2 ** Math.max(0, c.attempt - 1));

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const syncMachine = setup({
  types: {} as { context: SyncContext; events: SyncEvent; input: SyncInput },
  actors: {
    // Fetches (remote) and resolves the branch head; placeholders replaced by `provide` in syncer.ts.
    fetch: fromPromise<string, void>(async () => { throw new Error('fetch not provided'); }),
    load: fromPromise<void, { head: string }>(async () => { throw new Error('load not provided'); }),
    validate: fromPromise<StepResult, { head: string }>(async () => ({})),
    plan: fromPromise<void, { head: string }>(async () => {}),
    apply: fromPromise<void, { head: string }>(async () => {}),
  },
  actions: {
    // Any step that throws (unreadable repository, failed write…) fails the run; its message goes to /status.
    recordFailure: assign(({ event }) => ({ error: message((event as unknown as { error: unknown }).error), errors: [] as Issue[] })),
  },
  delays: {
    retry: ({ context }) => retryDelay(context),
  },
  guards: {
    upToDate: ({ context, event }) => (event as unknown as { output: string }).output === context.lastApplied && context.error === undefined,
    hasErrors: ({ event }) => ((event as unknown as { output: StepResult }).output.errors ?? []).length > 0,
    suspendRequested: ({ context }) => context.suspendRequested,
    pending: ({ context }) => context.pending,
  },
}).createMachine({
  id: 'sync',
  context: ({ input }) => ({
    lastApplied: input.lastApplied,
    pending: false,
    suspendRequested: false,
    attempt: 0,
    errors: [],
    retryBaseMs: input.retryBaseMs ?? 1000,
    retryMaxMs: input.retryMaxMs ?? 300_000,
  }),
  initial: 'idle',
  on: {
    // Busy states finish their step first: a sync is never cut in half.
    CHANGE: { actions: assign({ pending: true }) },
    SUSPEND: { actions: assign({ suspendRequested: true }) },
    RESUME: { actions: assign({ suspendRequested: false }) },
  },
  states: {
    idle: {
      always: { guard: 'suspendRequested', target: 'suspended' },
      on: { CHANGE: 'fetching' },
    },
    fetching: {
      entry: assign({ pending: false }),
      invoke: {
        src: 'fetch',
        onDone: [
          { guard: 'upToDate', target: 'synced', actions: assign({ head: ({ event }) => event.output }) },
          { target: 'loading', actions: assign({ head: ({ event }) => event.output }) },
        ],
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    loading: {
      invoke: {
        src: 'load',
        input: ({ context }) => ({ head: context.head! }),
        onDone: 'validating',
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    validating: {
      invoke: {
        src: 'validate',
        input: ({ context }) => ({ head: context.head! }),
        onDone: [
          {
            guard: 'hasErrors',
            target: 'failed',
            actions: assign({
              errors: ({ event }) => event.output.errors ?? [],
              error: ({ event }) => `revision has ${event.output.errors!.length} error(s); nothing was applied`,
            }),
          },
          { target: 'planning' },
        ],
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    planning: {
      invoke: {
        src: 'plan',
        input: ({ context }) => ({ head: context.head! }),
        onDone: 'applying',
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    applying: {
      invoke: {
        src: 'apply',
        input: ({ context }) => ({ head: context.head! }),
        onDone: {
          target: 'synced',
          actions: assign({ lastApplied: ({ context }) => context.head, error: undefined, errors: [], attempt: 0 }),
        },
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    // An outcome is a state one can see: a change that came mid-sync runs next, but after a 0 ms delay, so the
    // outcome is reported (the 'Synced: applied revision' line, /status) before the next run hides it.
    synced: {
      always: { guard: 'suspendRequested', target: 'suspended' },
      after: { 0: { guard: 'pending', target: 'fetching' } },
      on: { CHANGE: 'fetching' },
    },
    failed: {
      entry: assign({ attempt: ({ context }) => context.attempt + 1 }),
      always: { guard: 'suspendRequested', target: 'suspended' },
      after: { 0: { guard: 'pending', target: 'fetching' }, retry: 'fetching' },
      on: { CHANGE: 'fetching' },
    },
    suspended: {
      on: { RESUME: { target: 'fetching', actions: assign({ suspendRequested: false }) } },
    },
  },
});

export type SyncState = 'idle' | 'fetching' | 'loading' | 'validating' | 'planning' | 'applying' | 'synced' | 'failed' | 'suspended';

/** The states in which a sync is under way (and must not be cut in half). */
export const BUSY_STATES: ReadonlySet<SyncState> = new Set(['fetching', 'loading', 'validating', 'planning', 'applying']);
