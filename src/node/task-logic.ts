// The node machines' one-off steps (a pod's termination or stop for its node, a container's kill, a probe's check)
// as actors that run a promise: xstate's fromPromise, less the AbortController (and its AbortSignal) it makes for
// every run so that the promise can be told it was cancelled. None of these steps looks at a signal (a stopped step's
// result is dropped, and the pod worker ends its own work); at 30,000 hollow pods the steps of a pod's start made 3
// of them a pod (issue 14). Same snapshots and events as fromPromise: `invoke`'s onDone gets the output, onError the
// rejection, and a stopped actor's late result goes nowhere.
import type { PromiseActorLogic, PromiseSnapshot } from 'xstate';

const DONE = 'convergit.task.done';
const FAILED = 'convergit.task.failed';

/** `run()`'s promise; a throw at once rejects it, as a failure later would (the steps' callers treat both alike). */
export const attempt = <T>(run: () => PromiseLike<T> | T): Promise<T> => new Promise<T>((resolve) => resolve(run()));

/** An actor logic that runs `task(input)` once when started: done with what it resolves to, error with what it rejects with. */
export function fromTask<TOutput, TInput>(task: (input: TInput) => PromiseLike<TOutput> | TOutput): PromiseActorLogic<TOutput, TInput> {
  return {
    config: task,
    transition(snapshot, event) {
      if (snapshot.status !== 'active') return snapshot;
      if (event.type === DONE) return { status: 'done', output: event.output as TOutput, error: undefined, input: undefined };
      if (event.type === FAILED) return { status: 'error', output: undefined, error: event.error, input: undefined };
      if (event.type === 'xstate.stop') return { ...snapshot, status: 'stopped', input: undefined };
      return snapshot;
    },
    start(snapshot, { self }) {
      if (snapshot.status !== 'active') return;
      attempt(() => task(snapshot.input as TInput)).then(
        (output) => self.getSnapshot().status === 'active' && self.send({ type: DONE, output }),
        (error) => self.getSnapshot().status === 'active' && self.send({ type: FAILED, error }),
      );
    },
    getInitialSnapshot: (_scope, input) => ({ status: 'active', output: undefined, error: undefined, input }),
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<TOutput, TInput>,
  };
}
