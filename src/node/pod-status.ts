// A pod's status as the kubelet reports it, computed from what the node knows about its containers: phase by
// Kubernetes' getPhase rules, containerStatuses sorted by name, conditions Initialized / Ready / ContainersReady
// (the scheduler's PodScheduled is kept as it is), addresses and startTime. Pure: same facts, same status.
import type { KubeObject } from '../model/object.ts';
import { setCondition, type Condition } from '../model/conditions.ts';
import { compareText } from '../model/compare-text.ts';

export interface Terminated {
  exitCode: number;
  /** The signal number that ended the process, when one did. */
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: Terminated };

export interface ContainerFacts {
  name: string;
  state: ContainerState;
  /** The previous instance's termination, or {} before the first restart. */
  lastState: { terminated?: Terminated };
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  imageID?: string;
}

export interface PodFacts {
  hostIP: string;
  podIP?: string;
  startTime?: string;
  /** Containers the node has begun to run; the others are reported as being created. */
  containers: ContainerFacts[];
  /** The same for init containers (regular and sidecar). */
  initContainers?: ContainerFacts[];
  /** Nothing in the pod will run again (it is being removed): a pod whose containers all stopped gets a terminal phase. */
  terminal?: boolean;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** A sidecar: an init container that keeps running beside the app containers (`restartPolicy: Always`). */
export const isSidecar = (c: { restartPolicy?: string }) => c.restartPolicy === 'Always';

/** An init container's facts, with whether it is a sidecar. */
export type InitFacts = { sidecar: boolean; facts: ContainerFacts | undefined };

/** Kubernetes' getPhase (pkg/kubelet/kubelet_pods.go): init containers first, then the app containers. */
export function podPhase(restartPolicy: string | undefined, containers: (ContainerFacts | undefined)[], podIsTerminal = false, inits: InitFacts[] = []): PodPhase {
  const policy = restartPolicy ?? 'Always';
  let pendingInit = 0, pendingSidecars = 0, failedInit = 0;
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const { sidecar, facts: c } of inits) {
    if (sidecar) {
      // A sidecar counts as running beside the app containers; one that ended is left out.
      if (!c) unknown++;
      else if ('running' in c.state) { running++; if (!c.started) pendingSidecars++; }
      else if ('waiting' in c.state && !c.lastState.terminated) pendingSidecars++;
    } else if (!c || 'running' in c.state) pendingInit++;
    else if ('terminated' in c.state) { if (c.state.terminated.exitCode !== 0) failedInit++; }
    else if (c.lastState.terminated) { if (c.lastState.terminated.exitCode !== 0) failedInit++; }
    else pendingInit++;
  }
  for (const c of containers) {
    if (!c) unknown++;
    else if ('running' in c.state) running++;
    else if ('terminated' in c.state) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastState.terminated) stopped++; // waiting to restart
    else waiting++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || (pendingSidecars > 0 && running + stopped === 0)) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running'; // every container is on its way back
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running'; // OnFailure, restarting the failed ones
  }
  return 'Pending';
}

const waitingAs = (name: string, reason: string): ContainerFacts => ({
  name, state: { waiting: { reason } }, lastState: {}, ready: false, started: false, restartCount: 0,
});

/** One entry of containerStatuses / initContainerStatuses. */
const statusOf = (c: ContainerFacts, image: string | undefined) => ({
  name: c.name,
  state: c.state,
  lastState: c.lastState,
  ready: c.ready,
  restartCount: c.restartCount,
  image,
  imageID: c.imageID ?? '',
  ...(c.containerID && { containerID: c.containerID }),
  started: c.started,
});

/** Kubernetes' GeneratePodInitializedCondition: every regular init container succeeded, every sidecar started. */
function initialized(specInits: { name: string; restartPolicy?: string }[], inits: Map<string, ContainerFacts>, apps: ContainerFacts[], phase: PodPhase): Condition {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const spec of specInits) {
    const c = inits.get(spec.name);
    if (!c) unknown.push(spec.name);
    else if (isSidecar(spec) ? !c.started : !('terminated' in c.state && c.state.terminated.exitCode === 0)) incomplete.push(spec.name);
  }
  if (phase === 'Succeeded' && !unknown.length) return { type: 'Initialized', status: 'True', reason: 'PodCompleted', lastProbeTime: null };
  // An app container that has started means the pod was initialized before (its sidecars may be restarting).
  if (apps.some((c) => c.started || 'running' in c.state || 'terminated' in c.state || c.lastState.terminated)) return { type: 'Initialized', status: 'True', lastProbeTime: null };
  const messages = [
    ...(unknown.length ? [`containers with unknown status: [${unknown.join(' ')}]`] : []),
    ...(incomplete.length ? [`containers with incomplete status: [${incomplete.join(' ')}]`] : []),
  ];
  return messages.length
    ? { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', '), lastProbeTime: null }
    : { type: 'Initialized', status: 'True', lastProbeTime: null };
}

/** The pod's new status. `pod.status` supplies what the node keeps (PodScheduled, startTime, a terminal phase). */
export function podStatus(pod: KubeObject, facts: PodFacts, now: string): Record<string, unknown> {
  const old = pod.status ?? {};
  const specContainers: { name: string; image?: string }[] = pod.spec?.containers ?? [];
  const specInits: { name: string; image?: string; restartPolicy?: string }[] = pod.spec?.initContainers ?? [];
  // Containers not started yet: PodInitializing while a pod has init containers, as the kubelet reports them.
  const notYet = specInits.length ? 'PodInitializing' : 'ContainerCreating';
  const byName = new Map(facts.containers.map((c) => [c.name, c]));
  const initsByName = new Map((facts.initContainers ?? []).map((c) => [c.name, c]));
  const all = specContainers.map((c) => byName.get(c.name) ?? waitingAs(c.name, notYet));
  // A regular init container is ready once it has succeeded, as the kubelet reports it.
  const allInits = specInits.map((c) => {
    const f = initsByName.get(c.name) ?? waitingAs(c.name, notYet);
    return isSidecar(c) ? f : { ...f, ready: 'terminated' in f.state && f.state.terminated.exitCode === 0 };
  });

  // A terminal phase is final: a Succeeded or Failed pod never runs again.
  const phase: PodPhase = old.phase === 'Succeeded' || old.phase === 'Failed'
    ? old.phase
    : podPhase(
      pod.spec?.restartPolicy,
      specContainers.map((c) => byName.get(c.name) ?? (facts.terminal ? undefined : waitingAs(c.name, notYet))),
      facts.terminal,
      specInits.map((c) => ({ sidecar: isSidecar(c), facts: initsByName.get(c.name) ?? (facts.terminal ? undefined : waitingAs(c.name, notYet)) })),
    );

  // Sidecars count towards readiness, before the app containers (GenerateContainersReadyCondition).
  const sidecars = allInits.filter((_, i) => isSidecar(specInits[i]));
  const unready = [...sidecars, ...all].filter((c) => !c.ready).map((c) => c.name);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const readiness = (type: string): Condition => completed
    ? { type, status: 'False', reason: 'PodCompleted', lastProbeTime: null }
    : unready.length
      ? { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]`, lastProbeTime: null }
      : { type, status: 'True', lastProbeTime: null };
  let conditions: Condition[] | undefined = old.conditions;
  conditions = setCondition(conditions, specInits.length ? initialized(specInits, new Map(allInits.map((c) => [c.name, c])), facts.containers, phase) : { type: 'Initialized', status: 'True', lastProbeTime: null }, now);
  conditions = setCondition(conditions, readiness('Ready'), now);
  conditions = setCondition(conditions, readiness('ContainersReady'), now);

  const images = new Map([...specInits, ...specContainers].map((c) => [c.name, c.image ?? '']));
  const containerStatuses = [...all].sort((a, b) => compareText(a.name, b.name)).map((c) => statusOf(c, images.get(c.name)));
  // Init containers keep their spec order, as the kubelet reports them.
  const initContainerStatuses = allInits.map((c) => statusOf(c, images.get(c.name)));

  const podIP = facts.podIP ?? old.podIP;
  return {
    ...old,
    phase,
    conditions,
    hostIP: facts.hostIP,
    hostIPs: [{ ip: facts.hostIP }],
    ...(podIP && { podIP, podIPs: [{ ip: podIP }] }),
    startTime: old.startTime ?? facts.startTime,
    ...(specInits.length && { initContainerStatuses }),
    containerStatuses,
  };
}
