// Defaults as the Kubernetes API server applies them, so desired objects look like what `kubectl get -o yaml`
// shows. Applied to validated objects; returns a copy and never changes its argument.
import { isNamespaced } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';

type Obj = Record<string, any>;

/** `Always` for `:latest` or untagged images, else `IfNotPresent` (a digest counts as a tag). */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1); // a registry's `host:port/` is not a tag
  const colon = last.lastIndexOf(':');
  return colon < 0 || last.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function probe(p: Obj | undefined) {
  if (!p) return;
  p.periodSeconds ??= 10;
  p.timeoutSeconds ??= 1;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) p.httpGet.scheme ??= 'HTTP';
}

function podSpec(spec: Obj | undefined) {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  for (const c of spec.containers ?? []) {
    c.imagePullPolicy ??= defaultPullPolicy(c.image);
    for (const port of c.ports ?? []) port.protocol ??= 'TCP';
    probe(c.readinessProbe);
    probe(c.livenessProbe);
    probe(c.startupProbe);
  }
}

function deployment(spec: Obj) {
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.minReadySeconds ??= 0;
  podSpec(spec.template?.spec);
}

function service(spec: Obj) {
  spec.type ??= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

function secret(obj: Obj) {
  obj.type ??= 'Opaque';
  // Like the API server, fold the write-only stringData into data (base64), stringData winning on conflicts.
  if (obj.stringData) {
    obj.data ??= {};
    for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete obj.stringData;
  }
}

/** A defaulted copy of a validated object. */
export function applyDefaults(input: KubeObject): KubeObject {
  const obj = structuredClone(input);
  if (isNamespaced(obj.kind)) obj.metadata.namespace ??= 'default';
  const spec = obj.spec as Obj | undefined;
  switch (obj.kind) {
    case 'Pod': podSpec(spec); break;
    case 'Deployment': if (spec) deployment(spec); break;
    case 'ReplicaSet': if (spec) { spec.replicas ??= 1; podSpec(spec.template?.spec); } break;
    case 'Service': if (spec) service(spec); break;
    case 'Secret': secret(obj); break;
  }
  return obj;
}
