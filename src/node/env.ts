// A container's environment, resolved the way the kubelet does it (makeEnvironmentVariables): envFrom first, then
// env (explicit wins, `$(VAR)` sees what came before), then the Service variables that nothing else defined.
// convergit adds POD_IP (a promise of this project, overridable) and CONVERGIT_POD_UID (how leftovers are recognised).
import type { KubeObject } from '../model/object.ts';
import { parseQuantity } from '../model/quantity.ts';
import { expand } from './expand.ts';
import { serviceVarsOf, type ServiceVars } from './service-env.ts';

/** Becomes the container's `CreateContainerConfigError`: the container waits until its references resolve. */
export class ConfigError extends Error {}

export interface EnvSources {
  /** ConfigMaps and Secrets of the pod's namespace, by name. */
  configMaps: ReadonlyMap<string, KubeObject>;
  secrets: ReadonlyMap<string, KubeObject>;
  /** Services of the pod's namespace. */
  services: KubeObject[];
  podIP: string;
  hostIP: string;
  /** Node allocatable (cores, bytes): what resourceFieldRef reports for an unset limit. */
  allocatable: { cpu: number; memory: number };
  /** Variables passed through from the host so host commands are found (PATH, HOME). */
  host: Record<string, string>;
}

export const POD_UID_VAR = 'CONVERGIT_POD_UID';

interface KeyRef { name?: string; key: string; optional?: boolean }
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
  };
}
interface EnvFrom { prefix?: string; configMapRef?: { name?: string; optional?: boolean }; secretRef?: { name?: string; optional?: boolean } }

// Kubernetes' IsEnvVarName: keys of an envFrom source that do not match are skipped.
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** A Secret's values decoded; stringData (which the API server folds into data on write) wins. */
export function secretData(secret: KubeObject): Record<string, string> {
  const data = Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]);
  return { ...Object.fromEntries(data), ...(secret.stringData as Record<string, string> | undefined) };
}

const configMapData = (cm: KubeObject): Record<string, string> => ({ ...(cm.data as Record<string, string> | undefined) });

/**
 * A container's environment in two parts: its own variables, and its namespace's Service variables (shared by every
 * container of the namespace), those of them it does not define itself. A node keeps the parts, not the whole.
 */
export interface EnvParts {
  own: Record<string, string>;
  services: ServiceVars;
}

/** The whole environment of these parts, as a new object. */
export function envOf(parts: EnvParts): Record<string, string> {
  const env: Record<string, string> = { ...parts.own };
  for (const [k, v] of parts.services.byName) if (!Object.hasOwn(env, k)) env[k] = v;
  return env;
}

/**
 * The whole environment of these parts, read through them, for a container's launch: a read-only object whose
 * variables are its own, then the Service variables it does not define (Object.keys, JSON and spreads see them all,
 * in that order, as envOf's). No copy: the namespace's Service variables (700 at 100 Services) were joined into each
 * container's env at its start, 6.5% of serve's CPU and much of its garbage at 30,000 hollow pods, which read two.
 */
export function envView(parts: EnvParts): Record<string, string> {
  // A plain object as the target: what is not a variable (its constructor, toString) reads as on a plain object.
  // (util.inspect shows the target: a logged launch prints its env as {}.) The parts ride on it under a symbol,
  // configurable so that ownKeys may leave it out.
  const target = {} as ViewTarget;
  Object.defineProperty(target, PARTS, { value: parts, configurable: true });
  return new Proxy(target, viewTraps);
}

const PARTS = Symbol('env parts');
type ViewTarget = Record<string, string> & { [PARTS]: EnvParts };
const has = ({ own, services }: EnvParts, k: string | symbol): k is string => typeof k === 'string' && (Object.hasOwn(own, k) || services.byName.has(k));
const value = ({ own, services }: EnvParts, k: string) => (Object.hasOwn(own, k) ? own[k] : services.byName.get(k));

/**
 * One set of traps for every view: traps made per view (closures over its parts) measured 3.3 KB a view in isolation,
 * kept for a container's life with its launch. The parts' symbol reads as absent.
 */
const viewTraps: ProxyHandler<ViewTarget> = {
  get: (t, k) => (has(t[PARTS], k) ? value(t[PARTS], k) : k === PARTS ? undefined : Reflect.get(t, k)),
  has: (t, k) => has(t[PARTS], k) || (k !== PARTS && Reflect.has(t, k)),
  ownKeys: (t) => {
    const { own, services } = t[PARTS];
    return [...Object.keys(own), ...[...services.byName.keys()].filter((k) => !Object.hasOwn(own, k))];
  },
  getOwnPropertyDescriptor: (t, k) => (has(t[PARTS], k) ? { value: value(t[PARTS], k), enumerable: true, configurable: true, writable: false } : undefined),
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
  preventExtensions: () => false, // Object.freeze throws rather than breaking ownKeys for good
};

/** The environment of `container` in `pod`. Throws ConfigError for a missing, non-optional reference. */
export function containerEnv(pod: KubeObject, container: any, src: EnvSources): Record<string, string> {
  return envOf(containerEnvParts(pod, container, src));
}

/** containerEnv, in its parts. */
export function containerEnvParts(pod: KubeObject, container: any, src: EnvSources): EnvParts {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...src.host, POD_IP: src.podIP };
  const lookupCM = (name: string | undefined) => src.configMaps.get(name ?? '');
  const lookupSecret = (name: string | undefined) => src.secrets.get(name ?? '');

  for (const from of (container.envFrom ?? []) as EnvFrom[]) {
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const cm = lookupCM(from.configMapRef.name);
      if (!cm && !from.configMapRef.optional) throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      data = cm && configMapData(cm);
    } else if (from.secretRef) {
      const s = lookupSecret(from.secretRef.name);
      if (!s && !from.secretRef.optional) throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      data = s && secretData(s);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = (from.prefix ?? '') + k;
      if (ENV_NAME.test(name)) env[name] = v;
    }
  }

  const services = serviceVarsOf(pod.spec?.enableServiceLinks === false ? [] : src.services);
  const lookup = (name: string) => (name in env ? env[name] : services.byName.get(name));
  for (const v of (container.env ?? []) as EnvVar[]) {
    const value = v.valueFrom ? valueFrom(v, pod, container, src, ns) : expand(v.value ?? '', lookup);
    if (value !== undefined) env[v.name] = value;
  }

  env[POD_UID_VAR] = pod.metadata.uid ?? '';
  return { own: env, services };
}

/** undefined: an optional reference that does not resolve, so the variable is left out. */
function valueFrom(v: EnvVar, pod: KubeObject, container: any, src: EnvSources, ns: string): string | undefined {
  const from = v.valueFrom!;
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = src.configMaps.get(ref.name ?? '');
    if (!cm) return missing(ref, `configmap "${ref.name}" not found`);
    const data = configMapData(cm);
    return ref.key in data ? data[ref.key] : missing(ref, `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const s = src.secrets.get(ref.name ?? '');
    if (!s) return missing(ref, `secret "${ref.name}" not found`);
    const data = secretData(s);
    return ref.key in data ? data[ref.key] : missing(ref, `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
  }
  if (from.fieldRef) return fieldValue(from.fieldRef.fieldPath, pod, src);
  if (from.resourceFieldRef) return resourceValue(from.resourceFieldRef, pod, container, src);
  throw new ConfigError(`env var "${v.name}": valueFrom names no source`);
}

function missing(ref: KeyRef, message: string): undefined {
  if (ref.optional) return undefined;
  throw new ConfigError(message);
}

/** The downward API fields Kubernetes allows in env. */
export function fieldValue(path: string, pod: KubeObject, src: Pick<EnvSources, 'podIP' | 'hostIP'>): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return pod.metadata[m[1] as 'labels' | 'annotations']?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata.name;
    case 'metadata.namespace': return pod.metadata.namespace ?? 'default';
    case 'metadata.uid': return pod.metadata.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP': case 'status.podIPs': return src.podIP;
    case 'status.hostIP': case 'status.hostIPs': return src.hostIP;
  }
  throw new ConfigError(`unsupported fieldPath "${path}" in env (supported: metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP)`);
}

/** limits.cpu / requests.memory … of a container, divided by divisor and rounded up; an unset limit is the node's allocatable. */
export function resourceValue(ref: { containerName?: string; resource: string; divisor?: string | number }, pod: KubeObject, container: any, src: Pick<EnvSources, 'allocatable'>): string {
  const target = ref.containerName ? (pod.spec?.containers ?? []).find((c: any) => c.name === ref.containerName) : container;
  const [kind, res] = ref.resource.split('.');
  if (!target || !['limits', 'requests'].includes(kind) || !['cpu', 'memory'].includes(res)) {
    throw new ConfigError(`unsupported resourceFieldRef "${ref.resource}"${ref.containerName ? ` of container "${ref.containerName}"` : ''}`);
  }
  const given = target.resources?.[kind]?.[res] ?? (kind === 'requests' ? target.resources?.limits?.[res] : undefined);
  const value = given !== undefined ? parseQuantity(given) : kind === 'limits' ? src.allocatable[res as 'cpu' | 'memory'] : 0;
  const divisor = ref.divisor !== undefined ? parseQuantity(ref.divisor) : 1;
  return String(Math.ceil(value / divisor - 1e-9));
}
