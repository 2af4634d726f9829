// Rules about one object that JSON Schema cannot express (uniqueness, one-of, relations between fields), as
// Kubernetes' own validation applies them. Written defensively: they also run on objects with schema errors.
import { isIP } from 'node:net';
import type { KindInfo } from '../model/kinds.ts';
import { NAME_SYNTAXES } from '../model/names.ts';
import { parseQuantity } from '../model/quantity.ts';
import { matchesSelector, type LabelSelector } from '../model/selector.ts';
import type { Path } from './paths.ts';
import type { Violation } from './violation.ts';
import { ingressClassRules, ingressRules } from './ingress-rules.ts';

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const v = (path: Path, message: string): Violation => ({ path, at: path, message });

/** Reports each repeated value of `key` among `items`, at the repeat. */
function duplicates(items: unknown[], base: Path, key: (i: Obj) => unknown, field: string, what: string): Violation[] {
  const seen = new Set<string>();
  const out: Violation[] = [];
  items.forEach((item, i) => {
    const k = isObj(item) ? key(item) : undefined;
    if (k === undefined) return;
    const id = JSON.stringify(k);
    if (seen.has(id)) out.push(v([...base, i, field], `duplicate ${what} ${typeof k === 'string' ? `"${k}"` : id}`));
    seen.add(id);
  });
  return out;
}

const HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc'];

function probeRules(probe: unknown, at: Path, liveness: boolean, portNames: Set<string>): Violation[] {
  if (!isObj(probe)) return [];
  const out: Violation[] = [];
  const set = HANDLERS.filter((h) => probe[h] !== undefined);
  if (set.length === 0) out.push(v(at, 'must set one of httpGet, tcpSocket, exec or grpc'));
  if (set.length > 1) out.push(v([...at, set[1]], `may not be set together with ${set[0]}; a probe has one handler`));
  if (liveness && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    out.push(v([...at, 'successThreshold'], 'must be 1 for liveness and startup probes'));
  }
  for (const h of ['httpGet', 'tcpSocket']) {
    const port = probe[h]?.port;
    if (typeof port === 'string' && !portNames.has(port)) out.push(v([...at, h, 'port'], `names no port of this container ("${port}")`));
  }
  return out;
}

function resourceRules(res: unknown, at: Path): Violation[] {
  if (!isObj(res) || !isObj(res.requests) || !isObj(res.limits)) return [];
  const out: Violation[] = [];
  for (const r of ['cpu', 'memory']) {
    const req = res.requests[r], lim = res.limits[r];
    if (req === undefined || lim === undefined) continue;
    try {
      const [rq, lm] = [parseQuantity(req), parseQuantity(lim)];
      if (rq >= 0 && lm >= 0 && rq > lm) out.push(v([...at, 'requests', r], `must not exceed the limit (${lim})`));
    } catch { /* bad syntax is reported by the schema */ }
  }
  return out;
}

function containerRules(c: Obj, at: Path): Violation[] {
  const out: Violation[] = [];
  const ports = list(c.ports);
  out.push(...duplicates(ports, [...at, 'ports'], (p) => p.name, 'name', 'port name'));
  const portNames = new Set(ports.map((p) => p?.name).filter((n): n is string => typeof n === 'string'));
  out.push(...probeRules(c.readinessProbe, [...at, 'readinessProbe'], false, portNames));
  out.push(...probeRules(c.livenessProbe, [...at, 'livenessProbe'], true, portNames));
  out.push(...probeRules(c.startupProbe, [...at, 'startupProbe'], true, portNames));
  list(c.env).forEach((e, i) => {
    if (!isObj(e)) return;
    if (e.value !== undefined && e.valueFrom !== undefined) out.push(v([...at, 'env', i, 'valueFrom'], 'may not be set together with value'));
    if (isObj(e.valueFrom)) {
      const n = ['configMapKeyRef', 'secretKeyRef', 'fieldRef', 'resourceFieldRef'].filter((k) => e.valueFrom[k] !== undefined).length;
      if (n !== 1) out.push(v([...at, 'env', i, 'valueFrom'], 'must set exactly one of configMapKeyRef, secretKeyRef, fieldRef or resourceFieldRef'));
    }
  });
  list(c.envFrom).forEach((e, i) => {
    if (isObj(e) && (e.configMapRef === undefined) === (e.secretRef === undefined)) {
      out.push(v([...at, 'envFrom', i], 'must set exactly one of configMapRef or secretRef'));
    }
  });
  out.push(...resourceRules(c.resources, [...at, 'resources']));
  out.push(...lifecycleRules(c.lifecycle, [...at, 'lifecycle']));
  return out;
}

const HOOK_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

/** postStart and preStop each have exactly one handler. */
function lifecycleRules(lifecycle: unknown, at: Path): Violation[] {
  if (!isObj(lifecycle)) return [];
  const out: Violation[] = [];
  for (const hook of ['postStart', 'preStop']) {
    const h = lifecycle[hook];
    if (!isObj(h)) continue;
    const set = HOOK_HANDLERS.filter((k) => h[k] !== undefined);
    if (set.length === 0) out.push(v([...at, hook], 'must set one of exec, httpGet, sleep (or the deprecated tcpSocket)'));
    if (set.length > 1) out.push(v([...at, hook, set[1]], `may not be set together with ${set[0]}; a hook has one handler`));
  }
  return out;
}

/**
 * Init containers, as Kubernetes validates them: names unique among all the pod's containers; `restartPolicy`
 * only on init containers (a sidecar: Always); a regular init container runs to completion, so it has no
 * probes and no lifecycle hooks.
 */
function initContainerRules(spec: Obj, at: Path): Violation[] {
  const inits = list(spec.initContainers);
  const out: Violation[] = duplicates(inits, [...at, 'initContainers'], (c) => c.name, 'name', 'container name');
  const appNames = new Set(list(spec.containers).map((c) => c?.name));
  inits.forEach((c, i) => {
    if (!isObj(c)) return;
    const here = [...at, 'initContainers', i];
    if (appNames.has(c.name)) out.push(v([...here, 'name'], `duplicate container name "${c.name}" (also in containers)`));
    out.push(...containerRules(c, here));
    if (c.restartPolicy === 'Always') return;
    for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c[f] !== undefined) out.push(v([...here, f], 'may not be set for init containers without restartPolicy=Always'));
    }
  });
  list(spec.containers).forEach((c, i) => {
    if (isObj(c) && c.restartPolicy !== undefined) out.push(v([...at, 'containers', i, 'restartPolicy'], 'may not be set for non-init containers'));
  });
  return out;
}

/** A HorizontalPodAutoscaler's range, and the target each Resource metric needs. */
function hpaRules(spec: Obj): Violation[] {
  const out: Violation[] = [];
  const min = spec.minReplicas ?? 1;
  if (typeof spec.maxReplicas === 'number' && typeof min === 'number' && spec.maxReplicas < min) {
    out.push(v(['spec', 'maxReplicas'], `must be greater than or equal to minReplicas (${min})`));
  }
  list(spec.metrics).forEach((m, i) => {
    const t = isObj(m) && isObj(m.resource) ? m.resource.target : undefined;
    if (!isObj(t)) return;
    const needs: Record<string, string> = { Utilization: 'averageUtilization', AverageValue: 'averageValue', Value: 'value' };
    const field = needs[t.type];
    if (field && t[field] === undefined) out.push({ path: ['spec', 'metrics', i, 'resource', 'target', field], at: ['spec', 'metrics', i, 'resource', 'target'], message: `is required when type is ${t.type}`, missing: true });
    if (t.type === 'Value') out.push(v(['spec', 'metrics', i, 'resource', 'target', 'type'], 'must be Utilization or AverageValue for a Resource metric'));
  });
  return out;
}

function podSpecRules(spec: unknown, at: Path, owner?: string): Violation[] {
  if (!isObj(spec)) return [];
  const containers = list(spec.containers);
  const out = duplicates(containers, [...at, 'containers'], (c) => c.name, 'name', 'container name');
  containers.forEach((c, i) => { if (isObj(c)) out.push(...containerRules(c, [...at, 'containers', i])); });
  out.push(...initContainerRules(spec, at));
  if (owner && (spec.restartPolicy === 'OnFailure' || spec.restartPolicy === 'Never')) {
    out.push(v([...at, 'restartPolicy'], `must be Always in a ${owner} template`));
  }
  out.push(...dnsRules(spec, at));
  return out;
}

const isIpv4 = (s: unknown) => typeof s === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);

/** As Kubernetes' validatePodDNSConfig: None needs a nameserver; glibc's limits of 3 nameservers, 32 searches. */
function dnsRules(spec: Obj, at: Path): Violation[] {
  const out: Violation[] = [];
  // A subdomain names the pod's record <hostname>.<subdomain>.<ns>.svc.cluster.local: a label, as hostname is.
  if (typeof spec.subdomain === 'string' && !NAME_SYNTAXES['dns-label'].test(spec.subdomain)) out.push(v([...at, 'subdomain'], NAME_SYNTAXES['dns-label'].message));
  // As Kubernetes' validateHostAliases: each line of the pod's /etc/hosts needs an address and host names.
  list(spec.hostAliases).forEach((a, i) => {
    if (!isObj(a)) return;
    if (typeof a.ip !== 'string' || !isIP(a.ip)) out.push(v([...at, 'hostAliases', i, 'ip'], `must be an IP address, not ${JSON.stringify(a.ip)}`));
    list(a.hostnames).forEach((h, j) => {
      if (typeof h === 'string' && !NAME_SYNTAXES['dns-subdomain'].test(h)) out.push(v([...at, 'hostAliases', i, 'hostnames', j], NAME_SYNTAXES['dns-subdomain'].message));
    });
  });
  const config = spec.dnsConfig;
  if (spec.dnsPolicy === 'None' && !isObj(config)) return [...out, v([...at, 'dnsConfig'], 'must be given when dnsPolicy is None')];
  if (!isObj(config)) return out;
  const nameservers = list(config.nameservers);
  if (spec.dnsPolicy === 'None' && !nameservers.length) out.push(v([...at, 'dnsConfig', 'nameservers'], 'must name at least one nameserver when dnsPolicy is None'));
  if (nameservers.length > 3) out.push(v([...at, 'dnsConfig', 'nameservers'], `must not have more than 3 nameservers (has ${nameservers.length})`));
  nameservers.forEach((n, i) => { if (!isIpv4(n) && !(typeof n === 'string' && n.includes(':'))) out.push(v([...at, 'dnsConfig', 'nameservers', i], `must be an IP address, not ${JSON.stringify(n)}`)); });
  const searches = list(config.searches);
  if (searches.length > 32) out.push(v([...at, 'dnsConfig', 'searches'], `must not have more than 32 search paths (has ${searches.length})`));
  searches.forEach((d, i) => {
    if (typeof d === 'string' && !NAME_SYNTAXES['dns-subdomain'].test(d.replace(/\.$/, ''))) out.push(v([...at, 'dnsConfig', 'searches', i], NAME_SYNTAXES['dns-subdomain'].message));
  });
  return out;
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function selectorRules(spec: Obj, kind: string): Violation[] {
  const sel = spec.selector;
  if (!isObj(sel)) return [];
  const out: Violation[] = [];
  const exprs = list(sel.matchExpressions);
  exprs.forEach((e, i) => {
    if (!isObj(e)) return;
    const n = list(e.values).length;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) out.push(v(['spec', 'selector', 'matchExpressions', i, 'values'], `must not be empty for ${e.operator}`));
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) out.push(v(['spec', 'selector', 'matchExpressions', i, 'values'], `must be empty for ${e.operator}`));
  });
  if (Object.keys(sel.matchLabels ?? {}).length === 0 && exprs.length === 0) {
    out.push(v(['spec', 'selector'], `must not be empty: a ${kind} selects its pods by label`));
  } else if (out.length === 0 && isObj(spec.template) && exprs.every((e) => OPERATORS.includes(e?.operator))) {
    const labels = spec.template.metadata?.labels;
    if (!matchesSelector(sel as LabelSelector, isObj(labels) ? labels : {})) {
      out.push(v(['spec', 'selector'], 'does not match the template labels (spec.template.metadata.labels)'));
    }
  }
  return out;
}

/** The API server's StatefulSet rules OpenAPI does not carry (ValidateStatefulSetSpec). */
function statefulSetRules(spec: Obj): Violation[] {
  const out: Violation[] = [];
  const s = spec.updateStrategy;
  if (isObj(s) && s.type === 'OnDelete' && s.rollingUpdate !== undefined) {
    out.push(v(['spec', 'updateStrategy', 'rollingUpdate'], 'only allowed for updateStrategy \'RollingUpdate\''));
  }
  const mu = isObj(s) && isObj(s.rollingUpdate) ? s.rollingUpdate.maxUnavailable : undefined;
  if (mu === 0 || mu === '0%') out.push(v(['spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'], 'must be greater than 0'));
  out.push(...duplicates(list(spec.volumeClaimTemplates), ['spec', 'volumeClaimTemplates'], (t) => (isObj(t.metadata) ? t.metadata.name : undefined), 'metadata', 'claim template name'));
  return out;
}

function strategyRules(spec: Obj): Violation[] {
  const s = spec.strategy;
  const out: Violation[] = [];
  if (isObj(s)) {
    if (s.type === 'Recreate' && s.rollingUpdate !== undefined) out.push(v(['spec', 'strategy', 'rollingUpdate'], 'may not be set when type is Recreate'));
    const ru = s.rollingUpdate;
    if (isObj(ru)) {
      const zero = (x: unknown) => x === 0 || x === '0%';
      if (zero(ru.maxSurge) && zero(ru.maxUnavailable)) out.push(v(['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'], 'may not be 0 when maxSurge is 0'));
      if (typeof ru.maxUnavailable === 'string' && parseInt(ru.maxUnavailable, 10) > 100) out.push(v(['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'], 'must not be more than 100%'));
    }
  }
  const deadline = spec.progressDeadlineSeconds, minReady = spec.minReadySeconds;
  if (typeof deadline === 'number' && typeof minReady === 'number' && deadline <= minReady) {
    out.push(v(['spec', 'progressDeadlineSeconds'], 'must be greater than minReadySeconds'));
  }
  return out;
}

function serviceRules(spec: Obj): Violation[] {
  const ports = list(spec.ports);
  const out: Violation[] = [];
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    if (ports.length > 1 && p.name === undefined) out.push({ path: ['spec', 'ports', i, 'name'], at: ['spec', 'ports', i], message: 'is required when a Service has more than one port', missing: true });
    if (p.nodePort !== undefined && spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') out.push(v(['spec', 'ports', i, 'nodePort'], 'may only be set when type is NodePort or LoadBalancer'));
  });
  out.push(...duplicates(ports, ['spec', 'ports'], (p) => p.name, 'name', 'port name'));
  out.push(...duplicates(ports, ['spec', 'ports'], (p) => (p.port === undefined ? undefined : `${p.port}/${p.protocol ?? 'TCP'}`), 'port', 'port'));
  if (spec.clusterIP === 'None' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) out.push(v(['spec', 'clusterIP'], `may not be "None" when type is ${spec.type}`));
  if (spec.type === 'ExternalName' && typeof spec.externalName !== 'string') out.push({ path: ['spec', 'externalName'], at: ['spec'], message: 'is required when type is ExternalName', missing: true });
  if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None' && ports.length === 0) out.push({ path: ['spec', 'ports'], at: ['spec'], message: 'is required', missing: true });
  return out;
}

/** Kinds whose names are single DNS labels (they become host names); RBAC names only need to be path segments. */
const LABEL_NAMED = ['Namespace', 'Service'];
const PATH_SEGMENT_NAMED = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];

/** metadata.name is required and follows its kind's syntax, as the API server checks it. */
export function metadataRules(info: KindInfo, obj: Obj): Violation[] {
  const meta = obj.metadata;
  if (!isObj(meta)) return meta === undefined ? [{ path: ['metadata', 'name'], at: [], message: 'is required', missing: true }] : [];
  const name = meta.name;
  if (name === undefined) return [{ path: ['metadata', 'name'], at: ['metadata'], message: 'is required', missing: true }];
  if (typeof name !== 'string') return [];
  if (PATH_SEGMENT_NAMED.includes(info.kind)) {
    return name === '.' || name === '..' || /[/%]/.test(name) || !name ? [v(['metadata', 'name'], 'may not be "." or "..", nor contain "/" or "%"')] : [];
  }
  const syntax = NAME_SYNTAXES[LABEL_NAMED.includes(info.kind) ? 'dns-label' : 'dns-subdomain'];
  return syntax.test(name) ? [] : [v(['metadata', 'name'], syntax.message)];
}

/** The per-object rules for `obj` of `kind`. */
export function objectRules(kind: string, obj: Obj): Violation[] {
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  switch (kind) {
    case 'Pod': return podSpecRules(spec, ['spec']);
    case 'Deployment':
      if (!spec) return [];
      return [...selectorRules(spec, kind), ...strategyRules(spec), ...podSpecRules(spec.template?.spec, ['spec', 'template', 'spec'], kind)];
    case 'ReplicationController':
      if (!spec) return [];
      return podSpecRules(spec.template?.spec, ['spec', 'template', 'spec'], kind);
    case 'ReplicaSet':
      if (!spec) return [];
      return [...selectorRules(spec, kind), ...podSpecRules(spec.template?.spec, ['spec', 'template', 'spec'], kind)];
    case 'StatefulSet':
      if (!spec) return [];
      return [...selectorRules(spec, kind), ...statefulSetRules(spec), ...podSpecRules(spec.template?.spec, ['spec', 'template', 'spec'], kind)];
    case 'Service': return spec ? serviceRules(spec) : [];
    case 'Ingress': return ingressRules(obj);
    case 'IngressClass': return ingressClassRules(obj);
    case 'HorizontalPodAutoscaler': return spec ? hpaRules(spec) : [];
    case 'ConfigMap': {
      const binary = isObj(obj.binaryData) ? obj.binaryData : {};
      return Object.keys(isObj(obj.data) ? obj.data : {}).filter((k) => k in binary)
        .map((k) => v(['binaryData', k], `duplicates key "${k}" of data`));
    }
    case 'Namespace':
      // The API server drops a namespace on cluster-scoped objects; say so rather than drop it silently.
      return isObj(obj.metadata) && obj.metadata.namespace !== undefined
        ? [{ ...v(['metadata', 'namespace'], 'a Namespace is cluster-scoped; metadata.namespace is ignored'), warning: true }]
        : [];
    default: return [];
  }
}
