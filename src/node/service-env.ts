// The Docker-link style variables Kubernetes gives every container for each Service of its namespace
// (pkg/kubelet/envvars): FOO_SERVICE_HOST, FOO_SERVICE_PORT[_<NAME>], FOO_PORT, FOO_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR].
import type { KubeObject } from '../model/object.ts';

interface ServicePort { name?: string; port: number; protocol?: string }

/** `my-svc` → `MY_SVC`. */
const varName = (s: string) => s.replace(/-/g, '_').toUpperCase();

/** A Service takes part when it has a cluster IP (not headless, not yet unallocated) and a port. */
const hasClusterIP = (svc: KubeObject) => {
  const ip = svc.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None' && (svc.spec?.ports ?? []).length > 0;
};

/** A namespace's Service variables by name, in Kubernetes' order (the Map's): shared by every container of the namespace. */
export interface ServiceVars {
  byName: ReadonlyMap<string, string>;
}

const NO_VARS: ServiceVars = { byName: new Map() };
/** The last Services asked for with their variables, by the first of them: gone with it (a new version, a deleted namespace). */
const made = new WeakMap<KubeObject, { services: readonly KubeObject[]; vars: ServiceVars }>();

/**
 * serviceEnv of a namespace's Services (the store's objects, never changed in place), made again only when they are
 * not the same objects as the last time they came first: each container held its own copy of them (700 variables at 100 Services, 62 KiB
 * a container, 1.8 GB for 30,000 hollow pods), now every container of the namespace shares one.
 */
export function serviceVarsOf(services: readonly KubeObject[]): ServiceVars {
  if (!services.length) return NO_VARS;
  const last = made.get(services[0]);
  if (last && last.services.length === services.length && last.services.every((s, i) => s === services[i])) return last.vars;
  const vars = { byName: new Map(serviceEnv(services)) };
  made.set(services[0], { services: [...services], vars });
  return vars;
}

/** The variables for these Services, in Kubernetes' order. */
export function serviceEnv(services: readonly KubeObject[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const prefix = varName(svc.metadata.name);
    const ip: string = svc.spec.clusterIP;
    const ports: ServicePort[] = svc.spec.ports;
    out.push([`${prefix}_SERVICE_HOST`, ip], [`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
    for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${varName(p.name)}`, String(p.port)]);
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${ip}:${p.port}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]); // Docker special-cases the first port
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push([pp, url], [`${pp}_PROTO`, proto], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
    });
  }
  return out;
}
