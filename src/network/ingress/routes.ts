// The route table of the ingress listener, computed from the Ingresses convergit runs (pure): their rules merged
// by host, as ingress-nginx merges them into one server per host, the older Ingress first; and which Secret
// serves TLS for which host.
import type { KubeObject } from '../../model/object.ts';
import type { HostRules, PathType, RouteTable } from './matcher.ts';
import { compareText } from '../../model/compare-text.ts';

/** A Service port an Ingress sends requests to. */
export interface ServiceBackend {
  namespace: string;
  service: string;
  /** The Service port, by number or by name (exactly one is set). */
  port: { number?: number; name?: string };
  /** `namespace/name` of the Ingress it comes from, for events. */
  ingress: string;
}

/** The TLS settings of the run Ingresses: a Secret per host (`*.foo.com` allowed), and one for unnamed hosts. */
export interface TlsTable {
  /** host → `namespace/secretName` and the Ingress that named it. */
  hosts: Map<string, { secret: string; ingress: string }>;
  /** From a `spec.tls` entry without hosts: the certificate for hosts no entry names. */
  fallback?: { secret: string; ingress: string };
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace || 'default'}/${o.metadata.name}`;

/** Oldest first, then by namespace/name: who wins a conflict. */
export const byAge = (a: KubeObject, b: KubeObject) =>
  compareText(String(a.metadata.creationTimestamp ?? ''), String(b.metadata.creationTimestamp ?? '')) || compareText(keyOf(a), keyOf(b));

function backendOf(b: any, ing: KubeObject): ServiceBackend | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined; // a resource backend: nothing convergit can send HTTP to
  const port = typeof svc.port?.number === 'number' && svc.port.number > 0 ? { number: svc.port.number } : { name: String(svc.port?.name ?? '') };
  return { namespace: ing.metadata.namespace || 'default', service: svc.name, port, ingress: keyOf(ing) };
}

/** Routes of the given (run) Ingresses. */
export function ingressRoutes(ingresses: readonly KubeObject[]): RouteTable<ServiceBackend> {
  const hosts = new Map<string, HostRules<ServiceBackend>>();
  let defaultBackend: ServiceBackend | undefined;
  let order = 0;
  for (const ing of [...ingresses].sort(byAge)) {
    const own = ing.spec?.defaultBackend ? backendOf(ing.spec.defaultBackend, ing) : undefined;
    defaultBackend ??= own;
    for (const rule of Array.isArray(ing.spec?.rules) ? ing.spec.rules : []) {
      const host = String(rule?.host ?? '').toLowerCase();
      let h = hosts.get(host);
      if (!h) hosts.set(host, (h = { host, paths: [] }));
      h.defaultBackend ??= own;
      for (const p of rule?.http?.paths ?? []) {
        const backend = backendOf(p?.backend, ing);
        if (!backend) continue;
        h.paths.push({ path: String(p.path ?? ''), pathType: (p.pathType ?? 'ImplementationSpecific') as PathType, backend, order: order++ });
      }
    }
  }
  return { hosts: [...hosts.values()], defaultBackend };
}

/** TLS of the given (run) Ingresses; a host named twice keeps the older Ingress' Secret. */
export function ingressTls(ingresses: readonly KubeObject[]): TlsTable {
  const table: TlsTable = { hosts: new Map() };
  for (const ing of [...ingresses].sort(byAge)) {
    const ns = ing.metadata.namespace || 'default';
    for (const t of Array.isArray(ing.spec?.tls) ? ing.spec.tls : []) {
      if (!t?.secretName) continue;
      const entry = { secret: `${ns}/${t.secretName}`, ingress: keyOf(ing) };
      const hosts: string[] = Array.isArray(t.hosts) ? t.hosts.map((h: string) => String(h).toLowerCase()) : [];
      if (!hosts.length) table.fallback ??= entry;
      for (const h of hosts) if (!table.hosts.has(h)) table.hosts.set(h, entry);
    }
  }
  return table;
}

/** The Service port a backend names: its port name ('' when unnamed) for finding Endpoints ports, or undefined. */
export function servicePortName(svc: KubeObject | undefined, port: ServiceBackend['port']): string | undefined {
  const p = (svc?.spec?.ports ?? []).find((x: any) => (port.number !== undefined ? x.port === port.number : x.name === port.name));
  return p ? (p.name ?? '') : undefined;
}
