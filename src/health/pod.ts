// Pod health, after Argo CD's health_pod.go: Succeeded is Healthy, Failed and erroring containers Degraded,
// Running and ready Healthy, Pending or not ready Progressing. Also the pod's reason in a few words that a workload's
// message quotes ("CrashLoopBackOff", "Unschedulable: …", "Running, not ready").
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { isPodReady } from '../model/pod.ts';
import type { ObjectHealth } from './types.ts';

interface Terminated { exitCode?: number; signal?: number; reason?: string; message?: string }
interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: Terminated };
  lastState?: { terminated?: Terminated };
  restartCount?: number;
}

// Waiting reasons that will not go away by waiting: Argo's Err*/*Error/*BackOff, plus InvalidImageName, which it misses.
const isErrorWaiting = (reason = '') =>
  reason.startsWith('Err') || reason.endsWith('Error') || reason.endsWith('BackOff') || reason === 'InvalidImageName';

// A container that stopped badly: ended non-zero, could not start, or was killed for memory.
const isBadExit = (t: Terminated | undefined) =>
  !!t && ((t.exitCode ?? 0) !== 0 || t.reason === 'ContainerCannotRun' || t.reason === 'OOMKilled' || t.reason === 'Error');

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const statuses = (pod: KubeObject): ContainerStatus[] => [
  ...(pod.status?.initContainerStatuses ?? []),
  ...(pod.status?.containerStatuses ?? []),
];

/** `Error (exit code 1)`, `OOMKilled (exit code 137)`, `ContainerCannotRun (exec: no such file) (exit code 128)`. */
function termination(t: Terminated): string {
  const code = t.signal ? `signal ${t.signal}` : `exit code ${t.exitCode ?? 0}`;
  return `${t.reason ?? 'Terminated'}${t.message ? ` (${t.message})` : ''} (${code})`;
}

const lastTermination = (c: ContainerStatus) =>
  c.lastState?.terminated ? `, last terminated: ${termination(c.lastState.terminated)}` : '';

/** Why one container is in trouble, or undefined when it is not. */
function containerTrouble(c: ContainerStatus): string | undefined {
  const w = c.state?.waiting;
  if (w && isErrorWaiting(w.reason)) return `container ${c.name} waiting: ${w.reason}${w.message ? ` (${w.message})` : ''}${lastTermination(c)}`;
  if (isBadExit(c.state?.terminated)) return `container ${c.name} terminated: ${termination(c.state!.terminated!)}`;
  return undefined;
}

const unschedulable = (pod: KubeObject) => {
  const c = getCondition(pod.status?.conditions, 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable' ? `Unschedulable${c.message ? `: ${c.message}` : ''}` : undefined;
};

/**
 * Whether podHealth says Healthy, without building its message or any array: a rollout's check looks at every pod
 * of the workload (300 a Deployment, 100 Deployments, again at each assessment of a storm of pods), and almost all
 * of them are Running and ready.
 */
export function isPodHealthy(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const phase: string = pod.status?.phase ?? 'Pending';
  if (phase === 'Succeeded') return true;
  if (phase !== 'Running') return false;
  for (const c of pod.status?.initContainerStatuses ?? []) if (containerTrouble(c)) return false;
  for (const c of pod.status?.containerStatuses ?? []) if (containerTrouble(c)) return false;
  return isPodReady(pod);
}

export function podHealth(pod: KubeObject): ObjectHealth {
  const name = `Pod ${pod.metadata.name}`;
  const phase: string = pod.status?.phase ?? 'Pending';
  if (pod.metadata.deletionTimestamp) return { status: 'Progressing', message: `${name} is terminating` };
  if (phase === 'Succeeded') return { status: 'Healthy', message: `${name}: Succeeded` };
  const all = statuses(pod);
  if (phase === 'Failed') {
    // As Argo: the pod's own message first, else the first container that ended badly.
    const own = [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ');
    const why = own || all.map(containerTrouble).find(Boolean) || 'Failed';
    return { status: 'Degraded', message: `${name}: ${why}` };
  }
  // Argo applies this to restartPolicy Always only, to spare its sync hooks; convergit has no hooks, and a pod
  // that cannot pull or start its image is broken whatever its restart policy.
  const trouble = all.map(containerTrouble).filter(Boolean);
  if (trouble.length) return { status: 'Degraded', message: `${name}: ${trouble.join('; ')}` };
  if (phase === 'Pending') {
    const waiting = all.find((c) => c.state?.waiting?.reason);
    const why = unschedulable(pod) ?? (waiting ? `container ${waiting.name} waiting: ${waiting.state!.waiting!.reason}` : 'Pending');
    return { status: 'Progressing', message: `${name}: ${why}` };
  }
  if (phase === 'Running') {
    if (isPodReady(pod)) return { status: 'Healthy', message: `${name}: Running, ready` };
    // As Argo: not ready after a container already crashed once is a crash, not a start.
    const crashed = all.find((c) => c.lastState?.terminated);
    if (crashed) {
      return { status: 'Degraded', message: `${name}: container ${crashed.name} not ready after ${plural(crashed.restartCount ?? 0, 'restart')}${lastTermination(crashed)}` };
    }
    return { status: 'Progressing', message: `${name}: Running, not ready` };
  }
  return { status: 'Unknown', message: `${name}: phase ${phase}${pod.status?.message ? `: ${pod.status.message}` : ''}` };
}

/**
 * The pod's state in a few words, for a workload's "waiting on pod X (…)": the reason of a container in trouble,
 * the scheduler's verdict, a waiting container's reason, or the phase.
 */
export function podReason(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  if (pod.status?.phase === 'Failed' && pod.status.reason) return pod.status.reason; // Evicted, DeadlineExceeded
  const all = statuses(pod);
  for (const c of all) {
    if (isErrorWaiting(c.state?.waiting?.reason)) return c.state!.waiting!.reason!;
    if (isBadExit(c.state?.terminated)) return c.state!.terminated!.reason ?? `ExitCode:${c.state!.terminated!.exitCode}`;
  }
  const phase: string = pod.status?.phase ?? 'Pending';
  if (phase === 'Pending') return unschedulable(pod) ?? all.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason ?? 'Pending';
  if (phase === 'Running' && !isPodReady(pod)) {
    const crashed = all.find((c) => c.lastState?.terminated);
    return crashed ? `Running, not ready, last terminated: ${crashed.lastState!.terminated!.reason ?? 'Error'}` : 'Running, not ready';
  }
  return phase;
}
