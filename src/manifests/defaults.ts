// Defaults as the Kubernetes API server applies them, so desired objects look like what `kubectl get -o yaml`
// shows. Applied to validated objects; returns a copy and never changes its argument.
import { jsonCopy } from '../model/json-copy.ts';
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

function httpGet(h: Obj | undefined) {
  if (!h) return;
  h.path ??= '/';
  h.scheme ??= 'HTTP';
}

function probe(p: Obj | undefined) {
  if (!p) return;
  p.periodSeconds ??= 10;
  p.timeoutSeconds ??= 1;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  httpGet(p.httpGet);
}

/** Files of configMap, secret, downwardAPI and projected volumes are 0644 unless a mode is written. */
const DEFAULT_MODE = 0o644;

function volume(v: Obj) {
  const sources = ['hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
    'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
    'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
    'ephemeral', 'image'];
  if (!sources.some((k) => v[k] !== undefined)) v.emptyDir = {}; // a volume with no source is an emptyDir
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) if (v[k]) v[k].defaultMode ??= DEFAULT_MODE;
  if (v.hostPath) v.hostPath.type ??= '';
  for (const s of v.projected?.sources ?? []) if (s.serviceAccountToken) s.serviceAccountToken.expirationSeconds ??= 3600;
  for (const item of [...(v.downwardAPI?.items ?? []), ...(v.projected?.sources ?? []).flatMap((s: Obj) => s.downwardAPI?.items ?? [])]) {
    if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
  }
}

function container(c: Obj) {
  c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  probe(c.readinessProbe);
  probe(c.livenessProbe);
  probe(c.startupProbe);
  httpGet(c.lifecycle?.postStart?.httpGet);
  httpGet(c.lifecycle?.preStop?.httpGet);
}

/** Defaults of every PodSpec, in Pods and in templates alike. */
function podSpec(spec: Obj | undefined) {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) container(c);
  for (const v of spec.volumes ?? []) volume(v);
}

/** Defaults that only a Pod gets, not the PodSpec of a template (so templates' hashes stay as upstream's). */
function pod(spec: Obj | undefined) {
  if (!spec) return;
  podSpec(spec);
  spec.enableServiceLinks ??= true;
  // The ServiceAccount admission plugin names the namespace's default account; v1 keeps the deprecated alias too.
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    // Requests default to the limits written.
    if (c.resources?.limits) c.resources.requests = { ...c.resources.limits, ...c.resources.requests };
    if (spec.hostNetwork) for (const port of c.ports ?? []) port.hostPort ??= port.containerPort;
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
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  else if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  spec.type ??= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
  const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  if (external) spec.externalTrafficPolicy ??= 'Cluster';
  if (['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type)) spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

function webhooks(obj: Obj, mutating: boolean) {
  for (const w of obj.webhooks ?? []) {
    w.failurePolicy ??= 'Fail';
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    if (mutating) w.reinvocationPolicy ??= 'Never';
    if (w.clientConfig?.service) w.clientConfig.service.port ??= 443;
    for (const r of w.rules ?? []) r.scope ??= '*';
  }
}

function admissionPolicy(spec: Obj | undefined) {
  if (!spec) return;
  spec.failurePolicy ??= 'Fail';
  if (spec.matchConstraints) {
    spec.matchConstraints.matchPolicy ??= 'Equivalent';
    spec.matchConstraints.namespaceSelector ??= {};
    spec.matchConstraints.objectSelector ??= {};
    for (const r of spec.matchConstraints.resourceRules ?? []) r.scope ??= '*';
  }
}

function hpa(spec: Obj) {
  spec.minReplicas ??= 1;
  // No metrics means 80% average CPU utilisation, as the API server writes it.
  if (!spec.metrics || spec.metrics.length === 0) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  const b = spec.behavior;
  if (!b) return;
  b.scaleUp ??= {};
  b.scaleUp.stabilizationWindowSeconds ??= 0;
  b.scaleUp.selectPolicy ??= 'Max';
  b.scaleUp.policies ??= [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }];
  b.scaleDown ??= {};
  b.scaleDown.selectPolicy ??= 'Max';
  b.scaleDown.policies ??= [{ type: 'Percent', value: 100, periodSeconds: 15 }];
}

function priorityLevel(spec: Obj | undefined) {
  const limited = spec?.limited;
  if (!limited) return;
  limited.nominalConcurrencyShares ??= 30;
  limited.lendablePercent ??= 0;
  limited.limitResponse ??= { type: 'Reject' };
  if (limited.limitResponse.type === 'Queuing') {
    limited.limitResponse.queuing ??= {};
    const q = limited.limitResponse.queuing;
    q.queues ??= 64;
    q.handSize ??= 8;
    q.queueLengthLimit ??= 50;
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

/** Subjects naming a User or Group are in the rbac group; ServiceAccounts in the core group. */
function subjects(obj: Obj) {
  for (const s of obj.subjects ?? []) s.apiGroup ??= s.kind === 'ServiceAccount' ? '' : 'rbac.authorization.k8s.io';
}

/** A defaulted copy of a validated object. */
export function applyDefaults(input: KubeObject, namespaced = isNamespaced(input.kind)): KubeObject {
  const obj = jsonCopy(input); // shares the input's strings: the loader keeps both (string-table.ts)
  if (namespaced) obj.metadata.namespace ??= 'default';
  const spec = obj.spec as Obj | undefined;
  switch (obj.kind) {
    case 'Pod': pod(spec); break;
    case 'Namespace':
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
      break;
    case 'Endpoints':
      for (const ss of (obj.subsets as Obj[] | undefined) ?? []) for (const p of ss.ports ?? []) p.protocol ??= 'TCP';
      break;
    case 'EndpointSlice':
      for (const p of (obj.ports as Obj[] | undefined) ?? []) { p.protocol ??= 'TCP'; p.name ??= ''; }
      break;
    case 'LimitRange':
      for (const item of spec?.limits ?? []) {
        if (item.type !== 'Container') continue;
        item.default = { ...item.max, ...item.default };
        item.defaultRequest = { ...item.min, ...item.default, ...item.defaultRequest };
      }
      break;
    case 'RoleBinding': case 'ClusterRoleBinding': subjects(obj); break;
    case 'PriorityClass': obj.preemptionPolicy ??= 'PreemptLowerPriority'; break;
    case 'MutatingWebhookConfiguration': webhooks(obj, true); break;
    case 'ValidatingWebhookConfiguration': webhooks(obj, false); break;
    case 'ValidatingAdmissionPolicy': admissionPolicy(spec); break;
    case 'CustomResourceDefinition':
      if (spec) {
        spec.conversion ??= { strategy: 'None' };
        if (spec.conversion.webhook?.clientConfig?.service) spec.conversion.webhook.clientConfig.service.port ??= 443;
      }
      break;
    case 'CSIDriver':
      if (spec) {
        spec.attachRequired ??= true;
        spec.podInfoOnMount ??= false;
        spec.requiresRepublish ??= false;
        spec.storageCapacity ??= false;
        spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
        spec.volumeLifecycleModes ??= ['Persistent'];
        spec.seLinuxMount ??= false;
      }
      break;
    case 'FlowSchema': if (spec) spec.matchingPrecedence ??= 1000; break;
    case 'PriorityLevelConfiguration': priorityLevel(spec); break;
    case 'Deployment': if (spec) deployment(spec); break;
    case 'ReplicaSet': if (spec) { spec.replicas ??= 1; podSpec(spec.template?.spec); } break;
    case 'Service': if (spec) service(spec); break;
    case 'Secret': secret(obj); break;
    case 'StatefulSet': if (spec) statefulSet(spec); break;
    case 'DaemonSet': if (spec) daemonSet(spec); break;
    case 'Job': if (spec) job(spec); break;
    case 'CronJob': if (spec) cronJob(spec); break;
    case 'ReplicationController':
      if (spec) replicationController(spec);
      if (spec?.template?.metadata?.labels && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...spec.template.metadata.labels };
      break;
    case 'PodTemplate': podSpec((obj.template as Obj | undefined)?.spec); break;
    case 'PersistentVolumeClaim': if (spec) spec.volumeMode ??= 'Filesystem'; break;
    case 'PersistentVolume': if (spec) { spec.persistentVolumeReclaimPolicy ??= 'Retain'; spec.volumeMode ??= 'Filesystem'; } break;
    case 'StorageClass': obj.reclaimPolicy ??= 'Delete'; obj.volumeBindingMode ??= 'Immediate'; break;
    case 'NetworkPolicy':
      // Ingress always; Egress too when egress rules are written, as the API server defaults policyTypes.
      if (spec && !spec.policyTypes) spec.policyTypes = spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
      for (const rule of [...(spec?.ingress ?? []), ...(spec?.egress ?? [])]) for (const p of rule.ports ?? []) p.protocol ??= 'TCP';
      break;
    case 'HorizontalPodAutoscaler':
      // autoscaling/v1 has targetCPUUtilizationPercentage instead of metrics and behavior.
      if (spec && obj.apiVersion === 'autoscaling/v1') spec.minReplicas ??= 1;
      else if (spec) hpa(spec);
      break;
  }
  return obj;
}

/**
 * The store's admission step for Pods that controllers create from templates: the defaults the API server gives
 * every Pod (a template's PodSpec has the PodSpec ones already). A Pod that has both of the Pod-only defaults
 * `enableServiceLinks` and `serviceAccountName` was admitted before, so status writes cost no copy.
 */
export function podDefaultsAdmission(obj: KubeObject): KubeObject {
  if (obj.kind !== 'Pod' || !obj.spec || (obj.spec.enableServiceLinks !== undefined && obj.spec.serviceAccountName !== undefined)) return obj;
  return applyDefaults(obj, true);
}
