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
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
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

function statefulSet(spec: Obj) {
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.partition ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= 'Retain';
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= 'Retain';
  for (const claim of spec.volumeClaimTemplates ?? []) claim.spec && (claim.spec.volumeMode ??= 'Filesystem');
  podSpec(spec.template?.spec);
}

function daemonSet(spec: Obj) {
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  podSpec(spec.template?.spec);
}

function job(spec: Obj) {
  spec.parallelism ??= 1;
  // completions stays unset when parallelism is given alone (a work queue); else 1, as the API server does.
  if (spec.completions === undefined && spec.parallelism === 1) spec.completions = 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatedOrFailed';
  podSpec(spec.template?.spec);
}

function cronJob(spec: Obj) {
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (spec.jobTemplate?.spec) job(spec.jobTemplate.spec);
}

function replicationController(spec: Obj) {
  spec.replicas ??= 1;
  spec.minReadySeconds ??= 0;
  // An omitted selector is the template's labels, as the API server defaults it.
  if (!spec.selector && spec.template?.metadata?.labels) spec.selector = { ...spec.template.metadata.labels };
  podSpec(spec.template?.spec);
}

/** A defaulted copy of a validated object. */
export function applyDefaults(input: KubeObject, namespaced = isNamespaced(input.kind)): KubeObject {
  const obj = structuredClone(input);
  if (namespaced) obj.metadata.namespace ??= 'default';
  const spec = obj.spec as Obj | undefined;
  switch (obj.kind) {
    case 'Pod': podSpec(spec); break;
    case 'Deployment': if (spec) deployment(spec); break;
    case 'ReplicaSet': if (spec) { spec.replicas ??= 1; podSpec(spec.template?.spec); } break;
    case 'Service': if (spec) service(spec); break;
    case 'Secret': secret(obj); break;
    case 'StatefulSet': if (spec) statefulSet(spec); break;
    case 'DaemonSet': if (spec) daemonSet(spec); break;
    case 'Job': if (spec) job(spec); break;
    case 'CronJob': if (spec) cronJob(spec); break;
    case 'ReplicationController': if (spec) replicationController(spec); break;
    case 'PodTemplate': podSpec((obj.template as Obj | undefined)?.spec); break;
    case 'PersistentVolumeClaim': if (spec) spec.volumeMode ??= 'Filesystem'; break;
    case 'PersistentVolume': if (spec) { spec.persistentVolumeReclaimPolicy ??= 'Retain'; spec.volumeMode ??= 'Filesystem'; } break;
    case 'StorageClass': obj.reclaimPolicy ??= 'Delete'; obj.volumeBindingMode ??= 'Immediate'; break;
    case 'NetworkPolicy':
      // Ingress always; Egress too when egress rules are written, as the API server defaults policyTypes.
      if (spec && !spec.policyTypes) spec.policyTypes = spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
      break;
    case 'HorizontalPodAutoscaler': if (spec) spec.minReplicas ??= 1; break;
  }
  return obj;
}
