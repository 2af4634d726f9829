// The answers of the cluster zone (cluster.local), as the Kubernetes DNS specification
// (kubernetes/dns docs/specification.md) and CoreDNS's kubernetes plugin give them, from the objects alone (pure):
//   <svc>.<ns>.svc.<zone>                 A: the ClusterIP; headless: each ready endpoint; ExternalName: CNAME
//   <host>.<svc>.<ns>.svc.<zone>          A: a headless Service's endpoint, by its pod's hostname (when the pod's
//                                         subdomain is the Service) or its dashed address
//   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV: one per named port (headless: per ready endpoint)
//   <a-b-c-d>.<ns>.pod.<zone>             A: the address itself (CoreDNS `pods insecure`, kubeadm's default)
//   dns-version.<zone>                    TXT: the specification's version
// A name in the zone that does not exist is NXDOMAIN; one that exists without the asked type is NODATA; both carry
// the zone's SOA, so negative answers are cached for its minimum TTL.
import type { Answer, Question, SrvAnswer, StringAnswer } from 'dns-packet';
import type { KubeObject } from '../../model/object.ts';

export const TTL = 5;

/** What the zone is computed from: the Informers' caches. */
export interface ClusterView {
  service(namespace: string, name: string): KubeObject | undefined;
  endpoints(namespace: string, name: string): KubeObject | undefined;
  pod(namespace: string, name: string): KubeObject | undefined;
  /** Services whose clusterIP is this address (reverse lookups). */
  servicesWithIp(ip: string): KubeObject[];
  namespaceExists(namespace: string): boolean;
}

export interface ZoneAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
  additionals: Answer[];
  authorities: Answer[];
}

const isIpv4 = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);
const dashed = (ip: string) => ip.replaceAll('.', '-');

/** A headless Service's endpoint: its address, the label it is found under, its ports. */
interface Endpoint { ip: string; label: string; ports: { name?: string; port: number; protocol?: string }[] }

export function soa(zone: string): Answer {
  return {
    name: zone, type: 'SOA', ttl: TTL,
    data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL },
  };
}

/** The answer for a name in `zone`, or undefined when the name is outside it (to be forwarded). */
export function answerInZone(q: Question, view: ClusterView, zone: string): ZoneAnswer | undefined {
  const name = q.name.toLowerCase().replace(/\.$/, '');
  if (name !== zone && !name.endsWith(`.${zone}`)) return reverse(q, name, view, zone);
  const labels = name === zone ? [] : name.slice(0, -zone.length - 1).split('.');
  const found = records(labels, view, zone);
  if (!found) return { rcode: 'NXDOMAIN', answers: [], additionals: [], authorities: [soa(zone)] };
  // Every record under the asked name and type; a CNAME answers any type, as in any DNS server.
  const answers = found.records.filter((r) => r.name === name && (r.type === q.type || r.type === 'CNAME' || (q.type as string) === 'ANY'));
  const additionals = answers.length ? found.records.filter((r) => r.name !== name) : [];
  return { rcode: 'NOERROR', answers, additionals, authorities: answers.length ? [] : [soa(zone)] };
}

/** Every record of a name (plus the A records SRV targets need), or undefined when the name does not exist. */
function records(labels: string[], view: ClusterView, zone: string): { records: Answer[] } | undefined {
  const at = (l: string[]) => [...l, zone].join('.');
  const kind = labels.at(-1);
  if (labels.length === 0) return { records: [soa(zone)] };
  if (labels.length === 1 && labels[0] === 'dns-version') return { records: [{ name: at(labels), type: 'TXT', ttl: TTL, data: '1.1.0' }] };
  if (kind === 'pod') {
    if (labels.length === 1) return { records: [] };
    if (labels.length === 2) return view.namespaceExists(labels[0]) ? { records: [] } : undefined;
    if (labels.length !== 3) return undefined;
    const ip = labels[0].replaceAll('-', '.');
    return isIpv4(ip) ? { records: [{ name: at(labels), type: 'A', ttl: TTL, data: ip }] } : undefined;
  }
  if (kind !== 'svc') return undefined;
  if (labels.length === 1) return { records: [] };
  const ns = labels.at(-2)!;
  if (labels.length === 2) return view.namespaceExists(ns) ? { records: [] } : undefined;
  const svc = view.service(ns, labels.at(-3)!);
  if (!svc) return undefined;
  const svcName = at(labels.slice(-3));
  const spec = svc.spec ?? {};
  const headless = spec.clusterIP === 'None';
  const endpoints = headless ? headlessEndpoints(svc, view) : [];

  if (labels.length === 3) {
    if (spec.type === 'ExternalName') {
      return spec.externalName ? { records: [{ name: svcName, type: 'CNAME', ttl: TTL, data: String(spec.externalName).replace(/\.$/, '') }] } : { records: [] };
    }
    if (headless) return { records: endpoints.map((e): Answer => ({ name: svcName, type: 'A', ttl: TTL, data: e.ip })) };
    return { records: spec.clusterIP ? [{ name: svcName, type: 'A', ttl: TTL, data: spec.clusterIP }] : [] };
  }
  if (labels.length === 4) {
    if (!headless) return undefined;
    const hits = endpoints.filter((e) => e.label === labels[0]);
    return hits.length ? { records: hits.map((e): Answer => ({ name: at(labels), type: 'A', ttl: TTL, data: e.ip })) } : undefined;
  }
  if (labels.length === 5 && labels[0].startsWith('_') && labels[1].startsWith('_')) {
    const portName = labels[0].slice(1);
    const protocol = labels[1].slice(1).toUpperCase();
    const srvName = at(labels);
    const out: Answer[] = [];
    if (!headless) {
      const p = (spec.ports ?? []).find((x: any) => x.name === portName && (x.protocol ?? 'TCP') === protocol);
      if (!p || !spec.clusterIP || spec.type === 'ExternalName') return undefined;
      out.push(srv(srvName, svcName, p.port));
      out.push({ name: svcName, type: 'A', ttl: TTL, data: spec.clusterIP });
    } else {
      for (const e of endpoints) {
        const p = e.ports.find((x) => x.name === portName && (x.protocol ?? 'TCP') === protocol);
        if (!p) continue;
        const target = `${e.label}.${svcName}`;
        out.push(srv(srvName, target, p.port, endpoints.length));
        out.push({ name: target, type: 'A', ttl: TTL, data: e.ip });
      }
      if (!out.length) return undefined;
    }
    return { records: out };
  }
  return undefined;
}

/** CoreDNS gives each of n targets the weight 100/n, so together they weigh 100. */
function srv(name: string, target: string, port: number, n = 1): SrvAnswer {
  return { name, type: 'SRV', ttl: TTL, data: { priority: 0, weight: Math.floor(100 / n), port, target } };
}

/**
 * A headless Service's ready endpoints (not-ready ones too with publishNotReadyAddresses, which the Endpoints
 * already put among the ready), each named by its pod's hostname when the pod's subdomain is this Service, as the
 * endpoints controller of Kubernetes sets `hostname`, else by its dashed address.
 */
function headlessEndpoints(svc: KubeObject, view: ClusterView): Endpoint[] {
  const ns = svc.metadata.namespace ?? 'default';
  const ep = view.endpoints(ns, svc.metadata.name);
  const out: Endpoint[] = [];
  for (const s of Array.isArray(ep?.subsets) ? ep!.subsets : []) {
    for (const a of s.addresses ?? []) {
      const ref = a.targetRef;
      const pod = ref?.kind === 'Pod' ? view.pod(ref.namespace ?? ns, ref.name) : undefined;
      const hostname = a.hostname ?? (pod?.spec?.subdomain === svc.metadata.name ? pod?.spec?.hostname : undefined);
      out.push({ ip: a.ip, label: String(hostname || dashed(a.ip)).toLowerCase(), ports: s.ports ?? [] });
    }
  }
  return out;
}

/** PTR for a Service's ClusterIP (the specification's reverse records); other reverse names are forwarded. */
function reverse(q: Question, name: string, view: ClusterView, zone: string): ZoneAnswer | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = [m[4], m[3], m[2], m[1]].join('.');
  const services = view.servicesWithIp(ip);
  if (!services.length) return undefined;
  const answers = q.type === 'PTR'
    ? services.map((s): StringAnswer => ({ name, type: 'PTR', ttl: TTL, data: `${s.metadata.name}.${s.metadata.namespace ?? 'default'}.svc.${zone}` }))
    : [];
  return { rcode: 'NOERROR', answers, additionals: [], authorities: answers.length ? [] : [soa(zone)] };
}
