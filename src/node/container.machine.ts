// One container's life on the node, as the kubelet runs it: an instance (creating → running) → exited, then by the
// restart policy either done or a new instance (at once the first time, then after a back-off of base doubling to
// max, reset when an instance ran resetAfterMs). A launch that fails before a process exists waits in
// CreateContainerConfigError / ImagePullBackOff and retries. STOP (from any state) ends it for good.
// Side effects are `launch`, `wait`, `kill`, `startProbes` and `stopProbes`, done by the input's `host` (the pod
// worker): the definition is built once and shared by every container, not rebuilt per container with `provide`.
import { assign, fromCallback, setup } from 'xstate';
import { attempt, fromTask } from './task-logic.ts';
import type { ContainerState, Terminated } from './pod-status.ts';
import { goDuration } from './go-duration.ts';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** What a successful launch tells the machine. */
export interface Launched { containerID: string; imageID: string; startedAt: string }

/** A launch that failed before a process existed; `reason` becomes the waiting reason. */
export class LaunchError extends Error {
  constructor(readonly reason: 'CreateContainerConfigError' | 'ErrImagePull' | 'ErrImageNeverPull', message: string) {
    super(message);
  }
}

/** The side effects of one container, done by its pod worker. */
export interface ContainerHost {
  launch(restartCount: number): Promise<Launched>;
  wait(): Promise<Terminated>;
  kill(graceMs: number): Promise<Terminated | undefined>;
  startProbes(): void;
  stopProbes(): void;
}

export interface ContainerInput {
  host?: ContainerHost;
  name: string;
  /** `<pod>_<namespace>(<uid>)`, as Kubernetes names the pod in back-off messages. */
  podRef: string;
  restartPolicy?: RestartPolicy;
  /** With a readiness probe a container starts unready; without one it is ready while it runs. */
  hasReadiness?: boolean;
  /** With a startup probe a container is not `started` (nor ready) until it passes (event STARTED). */
  hasStartup?: boolean;
  /** Grace for a kill after a failed liveness probe. */
  killGraceMs?: number;
  baseMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
  /** The clock back-off resets are measured with (ms); Date.now by default. */
  nowMs?: () => number;
  /** What the pod's status said before this node (re)started: the count and last termination carry on. */
  resume?: { state?: ContainerState; lastState?: { terminated?: Terminated }; restartCount?: number };
  /** For a resumed container that was running: when it was lost. */
  now?: string;
  /** The instance still runs: re-adopted after a restart of the node, it goes straight to running. */
  adopted?: Launched & { restartCount: number; ready: boolean };
}

export interface ContainerContext {
  host?: ContainerHost;
  name: string;
  podRef: string;
  restartPolicy: RestartPolicy;
  hasReadiness: boolean;
  hasStartup: boolean;
  killGraceMs: number;
  baseMs: number;
  maxMs: number;
  resetAfterMs: number;
  nowMs: () => number;
  state: ContainerState;
  lastState: { terminated?: Terminated };
  ready: boolean;
  started: boolean;
  restartCount: number;
  /** An instance existed before: the next launch is a restart. */
  everRan: boolean;
  /** Crashes since the last reset: 0 restarts at once, n waits base·2^(n-1). */
  backoffStep: number;
  /** Consecutive failed image pulls. */
  pullFailures: number;
  containerID?: string;
  imageID?: string;
  stopGraceMs: number;
  // No more fields without taking some out: past 22, V8 keeps the context (copied on every assign, one per
  // container) as a dictionary, 0.9 KB a container more.
}

export type ContainerEvent =
  | { type: 'READY'; ready: boolean }
  | { type: 'STARTED' }
  | { type: 'UNHEALTHY'; message?: string }
  | { type: 'STOP'; graceMs: number }
  /** From the `launch` actor: launched, or its launch failed. */
  | { type: 'LAUNCHED'; launched: Launched }
  | { type: 'LAUNCH_FAILED'; error: unknown }
  /** The instance running ended (waitExit): `restartCount` says which, so a killed one's late exit is not the next's. */
  | { type: 'EXITED'; terminated: Terminated; restartCount: number };

const restarts = (policy: RestartPolicy, t: Terminated) => policy === 'Always' || (policy === 'OnFailure' && t.exitCode !== 0);

/** The back-off before the next restart at this step. */
export const backoffDelay = (c: Pick<ContainerContext, 'backoffStep' | 'baseMs' | 'maxMs'>) =>
  c.backoffStep <= 0 ? 0 : Math.min(c.maxMs, c.baseMs * 2 ** (c.backoffStep - 1));

const pullDelay = (c: ContainerContext) => Math.min(c.maxMs, c.baseMs * 2 ** Math.max(0, c.pullFailures - 1));

function initialContext(input: ContainerInput): ContainerContext {
  const policy = input.restartPolicy ?? 'Always';
  const r = input.resume ?? {};
  let state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  let lastState = r.lastState ?? {};
  const restartCount = r.restartCount ?? 0;
  let everRan = restartCount > 0 || !!lastState.terminated;
  // The node went away under a running container (stop or crash): Kubernetes reports it as ContainerStatusUnknown,
  // and restarts it only as the restart policy allows (a `Never` container stays ended, as after a node reboot).
  const found: ContainerState | undefined = r.state && 'running' in r.state
    ? { terminated: {
      exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated',
      startedAt: r.state.running.startedAt, finishedAt: input.now ?? r.state.running.startedAt,
    } }
    : r.state && 'terminated' in r.state ? r.state : undefined;
  const a = input.adopted;
  if (a) {
    // Still running: no restart happened, whatever the stored status said (it may lag the last start).
    return {
      ...base(input, policy), state: { running: { startedAt: a.startedAt } }, lastState, ready: a.ready, started: true,
      restartCount: a.restartCount, everRan: true, containerID: a.containerID, imageID: a.imageID,
    };
  }
  if (found && 'terminated' in found) {
    everRan = true;
    if (restarts(policy, found.terminated)) lastState = { terminated: found.terminated };
    else state = found; // finished for good: stays as it ended
  }
  return { ...base(input, policy), state, lastState, ready: false, started: false, restartCount, everRan };
}

function base(input: ContainerInput, policy: RestartPolicy) {
  return {
    host: input.host,
    name: input.name,
    podRef: input.podRef,
    restartPolicy: policy,
    hasReadiness: input.hasReadiness ?? false,
    hasStartup: input.hasStartup ?? false,
    killGraceMs: input.killGraceMs ?? 30_000,
    baseMs: input.baseMs ?? 10_000,
    maxMs: input.maxMs ?? 300_000,
    resetAfterMs: input.resetAfterMs ?? 600_000,
    nowMs: input.nowMs ?? Date.now,
    backoffStep: 0,
    pullFailures: 0,
    stopGraceMs: 0,
  };
}

/** The count the next instance runs with: one more once an instance existed. */
const nextRestartCount = (c: ContainerContext) => (c.everRan ? c.restartCount + 1 : c.restartCount);

const ended = (t: Terminated) => ({ state: { terminated: t } as ContainerState, ready: false, started: false });

export const containerMachine = setup({
  types: {} as { context: ContainerContext; events: ContainerEvent; input: ContainerInput },
  actors: {
    // An instance's launch. Once the machine left `creating` (STOP) the actor is stopped, and xstate drops what a
    // stopped callback actor sends: a launch that ends after STOP is lost (the pod worker's stop waits for the launch,
    // so no process escapes). Its exit is waited for by an action, not an actor living as long as the instance (a
    // callback actor is ~3 KB, kept for the container's life).
    launch: fromCallback<ContainerEvent, { restartCount: number; host?: ContainerHost }>(({ input, sendBack }) => {
      const { host } = input;
      if (!host) sendBack({ type: 'LAUNCH_FAILED', error: new Error('launch not provided') });
      else attempt(() => host.launch(input.restartCount)).then((launched) => sendBack({ type: 'LAUNCHED', launched }), (error) => sendBack({ type: 'LAUNCH_FAILED', error }));
    }),
    kill: fromTask<Terminated | undefined, { graceMs: number; host?: ContainerHost }>((input) => input.host?.kill(input.graceMs)),
  },
  actions: {
    startProbes: ({ context }) => context.host?.startProbes(),
    // The pod worker's wait never rejects (an instance's exit always resolves). Sent whatever the machine does by
    // then: only the running instance of that count takes it (a killed one's exit comes after the kill's own result).
    waitExit: ({ context: { host, restartCount }, self }) => {
      void host?.wait().then((terminated) => self.send({ type: 'EXITED', terminated, restartCount }));
    },
    stopProbes: ({ context }) => context.host?.stopProbes(),
    // The kubelet's back-off (flowcontrol.Backoff) resets once 2·max has passed since its last restart, looked at
    // when the next crash comes; measured here when the instance stops running, so no timer waits per container.
    resetIfRanLong: assign({ backoffStep: ({ context: c }) => ('running' in c.state && c.nowMs() - Date.parse(c.state.running.startedAt) >= c.resetAfterMs ? 0 : c.backoffStep) }),
  },
  delays: {
    backoff: ({ context }) => backoffDelay(context),
    pullBackoff: ({ context }) => pullDelay(context),
    pullShown: ({ context }) => pullDelay(context) / 2,
    configRetry: ({ context }) => context.baseMs,
  },
  guards: {
    finished: ({ context }) => 'terminated' in context.state,
  },
}).createMachine({
  id: 'container',
  context: ({ input }) => initialContext(input),
  initial: 'init',
  on: {
    STOP: { target: '.stopping', actions: assign({ stopGraceMs: ({ event }) => event.graceMs }) },
  },
  states: {
    init: {
      // Only a re-adopted instance starts out running (a lost one was made terminated above).
      always: [{ guard: ({ context }) => 'running' in context.state, target: 'instance.running' }, { guard: 'finished', target: 'done' }, { target: 'instance' }],
    },
    instance: {
      initial: 'creating',
      states: {
        creating: {
          invoke: { src: 'launch', input: ({ context }) => ({ restartCount: nextRestartCount(context), host: context.host }) },
          on: {
            LAUNCHED: {
              target: 'running',
              actions: assign(({ context, event }) => ({
                state: { running: { startedAt: event.launched.startedAt } },
                restartCount: nextRestartCount(context),
                everRan: true,
                ready: !context.hasReadiness && !context.hasStartup,
                started: !context.hasStartup,
                containerID: event.launched.containerID,
                imageID: event.launched.imageID,
                pullFailures: 0,
              })),
            },
            LAUNCH_FAILED: [
              {
                guard: ({ event }) => event.error instanceof LaunchError && event.error.reason === 'ErrImagePull',
                target: '#container.pullBackoff',
                actions: assign(({ context, event }) => ({
                  state: { waiting: { reason: 'ErrImagePull', message: (event.error as Error).message } },
                  pullFailures: context.pullFailures + 1,
                })),
              },
              {
                target: '#container.configError',
                actions: assign(({ event }) => ({
                  state: { waiting: { reason: event.error instanceof LaunchError ? event.error.reason : 'CreateContainerError', message: (event.error as Error)?.message ?? String(event.error) } },
                })),
              },
            ],
          },
        },
        // Entered after LAUNCHED, or at once for an instance re-adopted running.
        running: {
          entry: ['startProbes', 'waitExit'],
          // An instance that ran long enough forgets earlier crashes.
          exit: ['stopProbes', 'resetIfRanLong'],
          on: {
            EXITED: {
              guard: ({ context, event }) => event.restartCount === context.restartCount,
              target: '#container.exited',
              actions: assign(({ event }) => ended(event.terminated)),
            },
            READY: { actions: assign({ ready: ({ event }) => event.ready }) },
            STARTED: { actions: assign(({ context }) => ({ started: true, ready: context.ready || !context.hasReadiness })) },
            UNHEALTHY: '#container.killing',
          },
        },
      },
    },
    killing: {
      entry: assign({ ready: false }),
      invoke: {
        src: 'kill',
        input: ({ context }) => ({ graceMs: context.killGraceMs, host: context.host }),
        onDone: { target: 'exited', actions: assign(({ context, event }) => (event.output ? ended(event.output) : {})) },
      },
    },
    exited: {
      always: [
        { guard: ({ context }) => !('terminated' in context.state) || !restarts(context.restartPolicy, context.state.terminated), target: 'done' },
        {
          guard: ({ context }) => context.backoffStep === 0,
          target: 'instance',
          actions: assign(({ context }) => ({ lastState: { terminated: (context.state as { terminated: Terminated }).terminated }, backoffStep: 1 })),
        },
        { target: 'backoff' },
      ],
    },
    backoff: {
      entry: assign(({ context }) => ({
        lastState: { terminated: (context.state as { terminated: Terminated }).terminated },
        state: { waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(backoffDelay(context))} restarting failed container=${context.name} pod=${context.podRef}`,
        } },
      })),
      after: { backoff: { target: 'instance', actions: assign(({ context }) => ({ backoffStep: context.backoffStep + 1 })) } },
    },
    // As the kubelet shows it: ErrImagePull right after the failed pull, then ImagePullBackOff while it waits.
    pullBackoff: {
      initial: 'failed',
      states: {
        failed: { after: { pullShown: 'backingOff' } },
        backingOff: {
          entry: assign(({ context }) => ({
            state: { waiting: { reason: 'ImagePullBackOff', message: (context.state as { waiting: { message?: string } }).waiting.message } },
          })),
        },
      },
      after: {
        pullBackoff: 'instance',
      },
    },
    configError: {
      after: { configRetry: 'instance' },
    },
    done: {},
    stopping: {
      entry: assign({ ready: false }),
      invoke: {
        src: 'kill',
        input: ({ context }) => ({ graceMs: context.stopGraceMs, host: context.host }),
        onDone: { target: 'stopped', actions: assign(({ event }) => (event.output ? ended(event.output) : {})) },
      },
      on: { STOP: {} }, // already stopping: a second request changes nothing
    },
    stopped: { type: 'final' },
  },
});
