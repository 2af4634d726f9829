// Values the cluster assigns to objects that git describes: kept when git's copy is written again, as the
// Kubernetes API server keeps a Service's allocated clusterIP and nodePorts on an update that omits them.
import { carryDefaultTolerations } from './default-tolerations.ts';

type Obj = Record<string, any>;

/**
 * Annotations written by controllers (and the sync's change-cause), not by people: never compared with git, never
 * dropped by a git update that leaves them out.
 */
export const SYSTEM_ANNOTATION_PREFIXES = ['deployment.kubernetes.io/', 'kubernetes.io/change-cause', 'pv.kubernetes.io/', 'volume.kubernetes.io/', 'volume.beta.kubernetes.io/'];

export const isSystemAnnotation = (key: string) => SYSTEM_ANNOTATION_PREFIXES.some((p) => key.startsWith(p));

/**
 * `next` with the allocated values of `live` filled in where `next` leaves them out. Never changes its arguments: what
 * changes is copied along its path only (`next` may be a frozen object shared with the loader; a structuredClone of
 * each of 10,000 Deployments and Services was most of a cold plan's pairing).
 */
export function carryAllocated<T extends Obj>(live: Obj | undefined, next: T): T {
  if (!live) return next;
  let out = next;
  const withSpec = (spec: Obj) => (out = { ...out, spec: { ...out.spec, ...spec } });
  const liveAnn: Record<string, string> = live.metadata?.annotations ?? {};
  const carried = Object.entries(liveAnn).filter(([k]) => isSystemAnnotation(k) && next.metadata?.annotations?.[k] === undefined);
  if (carried.length) out = { ...out, metadata: { ...out.metadata, annotations: { ...out.metadata.annotations, ...Object.fromEntries(carried) } } };
  if (next.kind === 'Service' && live.spec && next.spec) out = carryServiceAllocations(live.spec, out);
  // A pod's binding is the scheduler's: a git update that does not name a node keeps it where it runs.
  if (next.kind === 'Pod' && live.spec?.nodeName && next.spec && next.spec.nodeName === undefined) withSpec({ nodeName: live.spec.nodeName });
  // The tolerations DefaultTolerationSeconds admitted: an update without them gets them again (upstream admits
  // updates too), so they are kept rather than shown as drift.
  if (next.kind === 'Pod' && live.spec?.tolerations && next.spec) {
    const tolerations = carryDefaultTolerations(live.spec.tolerations, next.spec.tolerations ?? []);
    if (tolerations.length !== (next.spec.tolerations ?? []).length) withSpec({ tolerations });
  }
  // The image pull secrets the ServiceAccount admission gave a pod created without any (a pod's are immutable).
  if (next.kind === 'Pod' && live.spec?.imagePullSecrets?.length && next.spec && !next.spec.imagePullSecrets?.length) {
    withSpec({ imagePullSecrets: structuredClone(live.spec.imagePullSecrets) });
  }
  // A claim's binding and a volume's claim are the binder's: kept by git updates that leave them out.
  if (next.kind === 'PersistentVolumeClaim' && next.spec) {
    for (const field of ['volumeName', 'storageClassName']) {
      if (live.spec?.[field] === undefined || next.spec[field] !== undefined) continue;
      withSpec({ [field]: live.spec[field] });
    }
  }
  if (next.kind === 'PersistentVolume' && live.spec?.claimRef && next.spec && next.spec.claimRef === undefined) withSpec({ claimRef: live.spec.claimRef });
  return out;
}

function carryServiceAllocations<T extends Obj>(liveSpec: Obj, next: T): T {
  const spec: Obj = { ...next.spec };
  const headlessChange = spec.clusterIP === 'None' || liveSpec.clusterIP === 'None';
  if (spec.clusterIP === undefined && liveSpec.clusterIP !== undefined && !headlessChange) {
    spec.clusterIP = liveSpec.clusterIP;
    if (liveSpec.clusterIPs) spec.clusterIPs = liveSpec.clusterIPs;
  }
  if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && Array.isArray(spec.ports)) {
    // A port keeps its node port while it keeps its name (or, unnamed, its port number).
    const same = (a: Obj, b: Obj) => (a.name || b.name ? a.name === b.name : a.port === b.port);
    spec.ports = spec.ports.map((p: Obj) => {
      if (p.nodePort !== undefined) return p;
      const old = (liveSpec.ports ?? []).find((lp: Obj) => same(lp, p));
      return old?.nodePort !== undefined ? { ...p, nodePort: old.nodePort } : p;
    });
  }
  return { ...next, spec };
}
