// A pod's status as the kubelet reports it, computed from what the node knows about its containers: phase by
// Kubernetes' getPhase rules, containerStatuses sorted by name, conditions Initialized / Ready / ContainersReady
// (the scheduler's PodScheduled is kept as it is), addresses and startTime. Pure: same facts, same status.
import type { KubeObject } from '../model/object.ts';
import { setCondition, type Condition } from '../model/conditions.ts';

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
  /** Nothing in the pod will run again (it is being removed): a pod whose containers all stopped gets a terminal phase. */
  terminal?: boolean;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** Kubernetes' getPhase (pkg/kubelet/kubelet_pods.go) for a pod without init containers. */
export function podPhase(restartPolicy: string | undefined, containers: (ContainerFacts | undefined)[], podIsTerminal = false): PodPhase {
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of containers) {
    if (!c) unknown++;
    else if ('running' in c.state) running++;
    else if ('terminated' in c.state) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastState.terminated) stopped++; // waiting to restart
    else waiting++;
  }
  const policy = restartPolicy ?? 'Always';
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

const creating = (name: string): ContainerFacts => ({
  name, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, started: false, restartCount: 0,
});

/** The pod's new status. `pod.status` supplies what the node keeps (PodScheduled, startTime, a terminal phase). */
export function podStatus(pod: KubeObject, facts: PodFacts, now: string): Record<string, unknown> {
  const old = pod.status ?? {};
  const specContainers: { name: string; image?: string }[] = pod.spec?.containers ?? [];
  const byName = new Map(facts.containers.map((c) => [c.name, c]));
  const all = specContainers.map((c) => byName.get(c.name) ?? creating(c.name));

  // A terminal phase is final: a Succeeded or Failed pod never runs again.
  const phase: PodPhase = old.phase === 'Succeeded' || old.phase === 'Failed'
    ? old.phase
    : podPhase(pod.spec?.restartPolicy, specContainers.map((c) => byName.get(c.name) ?? (facts.terminal ? undefined : creating(c.name))), facts.terminal);

  const unready = all.filter((c) => !c.ready).map((c) => c.name);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const readiness = (type: string): Condition => completed
    ? { type, status: 'False', reason: 'PodCompleted', lastProbeTime: null }
    : unready.length
      ? { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]`, lastProbeTime: null }
      : { type, status: 'True', lastProbeTime: null };
  let conditions: Condition[] | undefined = old.conditions;
  conditions = setCondition(conditions, { type: 'Initialized', status: 'True', lastProbeTime: null }, now);
  conditions = setCondition(conditions, readiness('Ready'), now);
  conditions = setCondition(conditions, readiness('ContainersReady'), now);

  const images = new Map(specContainers.map((c) => [c.name, c.image ?? '']));
  const containerStatuses = [...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((c) => ({
    name: c.name,
    state: c.state,
    lastState: c.lastState,
    ready: c.ready,
    restartCount: c.restartCount,
    image: images.get(c.name),
    imageID: c.imageID ?? '',
    ...(c.containerID && { containerID: c.containerID }),
    started: c.started,
  }));

  const podIP = facts.podIP ?? old.podIP;
  return {
    ...old,
    phase,
    conditions,
    hostIP: facts.hostIP,
    hostIPs: [{ ip: facts.hostIP }],
    ...(podIP && { podIP, podIPs: [{ ip: podIP }] }),
    startTime: old.startTime ?? facts.startTime,
    containerStatuses,
  };
}
