// The shell around the per-pod queue machines: which pods are waiting, and the order in which active pods are tried
// (first in, first out, by when they became active).
import { createActor, type Actor, type ActorOptions } from 'xstate';
import { podQueueMachine, type PodQueueInput, type PodQueueState } from './queue.machine.ts';

/** xstate's clock (setTimeout/clearTimeout), e.g. a SimulatedClock. */
export type Clock = NonNullable<ActorOptions<typeof podQueueMachine>['clock']>;

export interface SchedulingQueueOptions extends PodQueueInput {
  /** Injected into every pod's machine, so tests can move time by hand. */
  clock?: Clock;
  /** Called when a pod becomes active (added, moved, backoff over); the scheduler then runs its loop. */
  onActive?: () => void;
}

export class SchedulingQueue {
  private actors = new Map<string, Actor<typeof podQueueMachine>>();
  private active = new Set<string>(); // insertion order is the order of trying

  constructor(private opts: SchedulingQueueOptions = {}) {}

  /** Queues a pending pod by key; a pod already queued keeps its place and backoff. */
  add(key: string): void {
    if (this.actors.has(key)) return;
    const { clock, onActive: _, ...input } = this.opts;
    const actor = createActor(podQueueMachine, { input, ...(clock && { clock }) });
    this.actors.set(key, actor);
    let last: PodQueueState | undefined;
    actor.subscribe((s) => {
      const state = s.value as PodQueueState;
      if (state === last) return;
      last = state;
      if (state === 'active') {
        this.active.add(key);
        this.opts.onActive?.();
      } else if (state === 'bound') this.remove(key);
    });
    actor.start();
  }

  /** Forgets a pod that no longer needs scheduling (bound, deleted, finished, another scheduler's). */
  remove(key: string): void {
    this.actors.get(key)?.stop();
    this.actors.delete(key);
    this.active.delete(key);
  }

  has(key: string): boolean {
    return this.actors.has(key);
  }

  /** The next active pod, now being scheduled; undefined when none is active. */
  pop(): string | undefined {
    const key = this.active.values().next().value;
    if (key === undefined) return undefined;
    this.active.delete(key);
    this.actors.get(key)!.send({ type: 'POP' });
    return key;
  }

  /** The outcome of a pod's scheduling attempt. */
  done(key: string, outcome: 'BOUND' | 'FAILED' | 'ERROR'): void {
    this.actors.get(key)?.send({ type: outcome });
  }

  /** A change that may let one pod fit (its own spec changed). */
  move(key: string): void {
    this.actors.get(key)?.send({ type: 'MOVE' });
  }

  /** A change that may let any waiting pod fit (a node added or changed, a pod gone): kube-scheduler's MoveAllToActiveOrBackoffQueue. */
  moveAll(): void {
    for (const a of this.actors.values()) a.send({ type: 'MOVE' });
  }

  get hasActive(): boolean {
    return this.active.size > 0;
  }

  stateOf(key: string): PodQueueState | undefined {
    return this.actors.get(key)?.getSnapshot().value as PodQueueState | undefined;
  }

  stop(): void {
    for (const a of this.actors.values()) a.stop();
    this.actors.clear();
    this.active.clear();
  }
}
