// The shell around the per-pod queue machines: which pods are waiting, and the order in which active pods are tried
// (first in, first out, by when they became active).
//
// Most pods are bound at their first attempt, and for them the machine would only ever go active → scheduling →
// bound: a pod gets its machine (and its timers) only when an attempt fails, started from where the pod is then
// (scheduling, with any MOVE seen meanwhile). Until then its state is the two fields of a plain entry; at 30,000
// pods an actor each was a third of the queue's cost for nothing.
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

/** A queued pod: its machine once an attempt has failed; before that, where it is and whether a MOVE came. */
interface Entry {
  actor?: Actor<typeof podQueueMachine>;
  scheduling: boolean;
  moveRequested: boolean;
}

export class SchedulingQueue {
  private entries = new Map<string, Entry>();
  private active = new Set<string>(); // insertion order is the order of trying

  constructor(private opts: SchedulingQueueOptions = {}) {}

  /** Queues a pending pod by key; a pod already queued keeps its place and backoff. */
  add(key: string): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, { scheduling: false, moveRequested: false });
    this.active.add(key);
    this.opts.onActive?.();
  }

  /** Forgets a pod that no longer needs scheduling (bound, deleted, finished, another scheduler's). */
  remove(key: string): void {
    this.entries.get(key)?.actor?.stop();
    this.entries.delete(key);
    this.active.delete(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The next active pod, now being scheduled; undefined when none is active. */
  pop(): string | undefined {
    const key = this.active.values().next().value;
    if (key === undefined) return undefined;
    this.active.delete(key);
    const e = this.entries.get(key)!;
    if (e.actor) e.actor.send({ type: 'POP' });
    else {
      e.scheduling = true;
      e.moveRequested = false; // the machine's entry to scheduling clears it too
    }
    return key;
  }

  /** The outcome of a pod's scheduling attempt. */
  done(key: string, outcome: 'BOUND' | 'FAILED' | 'ERROR'): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.actor) return e.actor.send({ type: outcome });
    if (!e.scheduling) return; // queued again since its attempt began: as the machine, active ignores outcomes
    if (outcome === 'BOUND') return this.remove(key);
    this.machine(key, e).send({ type: outcome });
  }

  /** A change that may let one pod fit (its own spec changed). */
  move(key: string): void {
    const e = this.entries.get(key);
    if (e) this.moveEntry(e);
  }

  /** A change that may let any waiting pod fit (a node added or changed, a pod gone): kube-scheduler's MoveAllToActiveOrBackoffQueue. */
  moveAll(): void {
    for (const e of this.entries.values()) this.moveEntry(e);
  }

  get hasActive(): boolean {
    return this.active.size > 0;
  }

  stateOf(key: string): PodQueueState | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    return e.actor ? e.actor.getSnapshot().value as PodQueueState : e.scheduling ? 'scheduling' : 'active';
  }

  stop(): void {
    for (const e of this.entries.values()) e.actor?.stop();
    this.entries.clear();
    this.active.clear();
  }

  /** MOVE: an active pod without a machine stays active; one being scheduled remembers it, as the machine does. */
  private moveEntry(e: Entry): void {
    if (e.actor) e.actor.send({ type: 'MOVE' });
    else if (e.scheduling) e.moveRequested = true;
  }

  /** The pod's machine, brought to where the entry is (scheduling, with its MOVE), then followed. */
  private machine(key: string, e: Entry): Actor<typeof podQueueMachine> {
    const { clock, onActive: _, ...input } = this.opts;
    const actor = createActor(podQueueMachine, { input, ...(clock && { clock }) });
    actor.start();
    actor.send({ type: 'POP' });
    if (e.moveRequested) actor.send({ type: 'MOVE' });
    e.actor = actor;
    let last: PodQueueState = 'scheduling';
    actor.subscribe((s) => {
      const state = s.value as PodQueueState;
      if (state === last) return;
      last = state;
      if (state === 'active') {
        this.active.add(key);
        this.opts.onActive?.();
      } else if (state === 'bound') this.remove(key);
    });
    return actor;
  }
}
