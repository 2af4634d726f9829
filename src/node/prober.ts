// Runs one probe of one container on its schedule and tells the caller when its verdict flips.
import { createActor, type Actor, type ActorOptions } from 'xstate';
import { proberMachine, type ProberInput } from './prober.machine.ts';
import type { Probe, ProbeResult } from './probes.ts';

export interface ProberOptions {
  /** The spec's probe: only its timings and thresholds are read here; `check` does the probing. */
  probe: Probe;
  /** One attempt; should give up after `timeoutMs` (probeOnce does, given ctx.timeoutMs). */
  check: (opts: { timeoutMs: number }) => Promise<ProbeResult>;
  /** The verdict flipped: ready (or alive, or started) or not, with the failing probe's message. */
  onChange: (ok: boolean, message?: string) => void;
  /** Every attempt's result, e.g. for "Readiness probe failed: …" events. */
  onResult?: (result: ProbeResult) => void;
  /** Verdict before the first probe: false (readiness, startup; default) or true (liveness). */
  initial?: boolean;
  /** How long a probe "second" lasts: 1000 by default, less in tests. */
  msPerSecond?: number;
  /** xstate clock, e.g. a SimulatedClock in tests. */
  clock?: ActorOptions<typeof proberMachine>['clock'];
  /**
   * When the container started, for one that was already running when probing began (re-adopted after a restart
   * of serve): initialDelaySeconds counts from it, as the kubelet counts it from state.running.startedAt, so a
   * restart never makes a container wait its initial delay again. Default: now.
   */
  startedAt?: Date;
  /**
   * The first probe waits a random part of one period, as the kubelet's workers do after a kubelet restart, so a
   * restarted node does not probe every container at the same instant. Only where the verdict carried over is
   * kept meanwhile (a re-adopted ready container, liveness): a verdict still to be earned is probed at once.
   */
  jitter?: boolean;
  /** For tests: Math.random and Date.now. */
  random?: () => number;
  now?: () => number;
}

/** How long before the first probe: what is left of the initial delay, or (jitter) a random part of a period if longer. */
export function firstProbeDelayMs(t: Pick<ProberInput, 'initialDelayMs' | 'periodMs'>, opts: Pick<ProberOptions, 'startedAt' | 'jitter' | 'random' | 'now'>): number {
  const sinceStart = opts.startedAt ? Math.max(0, (opts.now ?? Date.now)() - opts.startedAt.getTime()) : 0;
  const left = Math.max(0, t.initialDelayMs - sinceStart);
  return opts.jitter ? Math.max(left, Math.floor((opts.random ?? Math.random)() * t.periodMs)) : left;
}

/** Kubernetes' probe defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay. */
export function proberTimings(probe: Probe, msPerSecond = 1000): Omit<ProberInput, 'initial'> {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * msPerSecond,
    periodMs: (probe.periodSeconds || 10) * msPerSecond,
    timeoutMs: (probe.timeoutSeconds || 1) * msPerSecond,
    successThreshold: probe.successThreshold || 1,
    failureThreshold: probe.failureThreshold || 3,
  };
}

export class Prober {
  private actor?: Actor<typeof proberMachine>;
  private verdict: boolean;

  constructor(private opts: ProberOptions) {
    this.verdict = opts.initial ?? false;
  }

  /** The current verdict. */
  get ok(): boolean {
    return this.verdict;
  }

  /** Starts from the initial verdict (a restarted container is probed afresh); no-op while running. */
  start(): void {
    if (this.actor) return;
    this.verdict = this.opts.initial ?? false;
    const { check, onChange, onResult } = this.opts;
    const timings = proberTimings(this.opts.probe, this.opts.msPerSecond);
    const input: ProberInput = { ...timings, initialDelayMs: firstProbeDelayMs(timings, this.opts), initial: this.verdict, check };
    // An explicit `clock: undefined` would replace xstate's default clock.
    this.actor = createActor(proberMachine, this.opts.clock ? { input, clock: this.opts.clock } : { input });
    this.actor.on('result', (e) => onResult?.({ ok: e.ok, message: e.message }));
    this.actor.on('change', (e) => {
      this.verdict = e.ok;
      onChange(e.ok, e.message);
    });
    this.actor.start();
  }

  /** Stops probing; a probe in flight is left to finish and its result ignored. */
  stop(): void {
    this.actor?.stop();
    this.actor = undefined;
  }
}
