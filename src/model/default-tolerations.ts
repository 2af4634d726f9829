// The DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds): every pod created
// or updated without a toleration for node.kubernetes.io/not-ready:NoExecute or node.kubernetes.io/unreachable:NoExecute
// gets one with tolerationSeconds (300 each by default, the API server's --default-*-toleration-seconds flags), so
// taint-based eviction leaves it on a failed node for that long. Written into the pod, as `kubectl get -o yaml` shows.
import type { KubeObject } from './object.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, type Toleration } from './taints.ts';

export interface DefaultTolerationSeconds { notReady: number; unreachable: number }

export const DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds = { notReady: 300, unreachable: 300 };

/** Upstream's test: any toleration of that key (or of every key) with effect NoExecute (or every effect) counts. */
export const coversNoExecute = (tolerations: Toleration[], key: string) =>
  tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));

/** `tolerations` with the not-ready and unreachable defaults added where none covers them; the same array if none is missing. */
export function withDefaultTolerationSeconds(tolerations: Toleration[], seconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS): Toleration[] {
  const add: Toleration[] = [];
  if (!coversNoExecute(tolerations, TAINT_NOT_READY)) add.push({ key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds.notReady });
  if (!coversNoExecute(tolerations, TAINT_UNREACHABLE)) add.push({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds.unreachable });
  return add.length ? [...tolerations, ...add] : tolerations;
}

/** The admission step for the store: Pods get the default tolerations, every other kind passes unchanged. */
export function defaultTolerationSecondsAdmission(seconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS): (obj: KubeObject) => KubeObject {
  return (obj) => {
    if (obj.kind !== 'Pod' || !obj.spec) return obj;
    const tolerations = (obj.spec.tolerations ?? []) as Toleration[];
    const next = withDefaultTolerationSeconds(tolerations, seconds);
    return next === tolerations ? obj : { ...obj, spec: { ...obj.spec, tolerations: next } };
  };
}

/**
 * `next` (a git update of a Pod) with the defaults `live` got at admission carried over where `next` leaves the key
 * uncovered, so a git Pod without tolerations shows no drift against its admitted live copy.
 */
export function carryDefaultTolerations(liveTolerations: Toleration[], nextTolerations: Toleration[]): Toleration[] {
  const carried = [TAINT_NOT_READY, TAINT_UNREACHABLE]
    .filter((key) => !coversNoExecute(nextTolerations, key))
    .flatMap((key) => liveTolerations.filter((t) => t.key === key && t.effect === 'NoExecute' && typeof t.tolerationSeconds === 'number'));
  return carried.length ? [...nextTolerations, ...carried] : nextTolerations;
}
