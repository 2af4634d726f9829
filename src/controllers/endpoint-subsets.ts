// A Service's endpoints computed from its pods (pure), as Kubernetes' endpoints controller does: each pod's
// address under every Service port it serves, grouped into subsets of pods that serve the same port list.
import equal from 'fast-deep-equal';
import type { KubeObject } from '../model/object.ts';
import { isPodReady, isPodTerminal } from '../model/pod.ts';
import { compareText } from '../model/compare-text.ts';

export interface EndpointAddress {
  ip: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

interface ServicePort { name?: string; port: number; targetPort?: number | string; protocol?: string; appProtocol?: string }

/** The container port a Service port sends to on this pod: a number as is, a name looked up in the pod's containers. */
export function resolveTargetPort(sp: ServicePort, pod: KubeObject): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** Pods that may appear in endpoints at all: with an address, not being deleted, not finished. */
export const servesTraffic = (pod: KubeObject) => !!pod.status?.podIP && !pod.metadata.deletionTimestamp && !isPodTerminal(pod);

/**
 * Whether a pod's change (its labels aside) can change what endpointSubsets makes of it, as Kubernetes'
 * podEndpointsChanged: whether it serves traffic, and if so its address, node, readiness or containers' ports (a
 * named targetPort; Kubernetes' pod specs never change them, but convergit stores a bare Pod's new spec). Its
 * binding, restart counts and container states are no sync of its Services.
 */
export function endpointsChanged(old: KubeObject, pod: KubeObject): boolean {
  const serves = servesTraffic(pod);
  if (serves !== servesTraffic(old)) return true;
  return serves && (pod.status.podIP !== old.status.podIP || pod.spec?.nodeName !== old.spec?.nodeName || isPodReady(pod) !== isPodReady(old) ||
    (pod.spec !== old.spec && !equal(portsOf(pod), portsOf(old))));
}

const portsOf = (pod: KubeObject) => (pod.spec?.containers ?? []).map((c: { ports?: unknown }) => c.ports);

/**
 * The subsets for `service` given the pods its selector matches. A pod missing a named port is left out of that
 * port only; a pod serving none of the ports is left out. Output is sorted, so equal inputs give equal outputs.
 */
export function endpointSubsets(service: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const servicePorts: ServicePort[] = service.spec?.ports ?? [];
  const headless = service.spec?.clusterIP === 'None';
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();

  for (const pod of pods) {
    if (!servesTraffic(pod)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      ports.push({ ...(sp.name && { name: sp.name }), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol && { appProtocol: sp.appProtocol }) });
    }
    // Without ports, only a headless Service lists addresses (for DNS); otherwise a pod must serve some port.
    if (servicePorts.length ? !ports.length : !headless) continue;
    ports.sort(comparePorts);
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, ready: [], notReady: [] }));
    (publishNotReady || isPodReady(pod) ? group.ready : group.notReady).push(addressOf(pod));
  }

  return [...groups.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([, g]) => {
      const subset: EndpointSubset = {};
      if (g.ready.length) subset.addresses = sortedAddresses(g.ready);
      if (g.notReady.length) subset.notReadyAddresses = sortedAddresses(g.notReady);
      if (g.ports.length) subset.ports = g.ports;
      return subset;
    });
}

function addressOf(pod: KubeObject): EndpointAddress {
  return {
    ip: pod.status.podIP,
    ...(pod.spec?.nodeName && { nodeName: pod.spec.nodeName }),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid ?? '' },
  };
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return cmp(a.name ?? '', b.name ?? '') || cmp(a.port, b.port) || cmp(a.protocol, b.protocol);
}

/** An IPv4 address as a number, else undefined. */
function ipv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v)) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/**
 * By address, numerically for IPv4 (127.1.0.10 after 127.1.0.9), then by pod name. Each address is read once, not
 * at each comparison (a Service of 300 pods was 300·log 300 splits of its addresses at every sync).
 */
function sortedAddresses(list: EndpointAddress[]): EndpointAddress[] {
  const keyed = list.map((a) => ({ a, v4: ipv4(a.ip) }));
  keyed.sort((x, y) => (x.v4 !== undefined && y.v4 !== undefined ? x.v4 - y.v4 : cmp(x.a.ip, y.a.ip)) || cmp(x.a.targetRef.name, y.a.targetRef.name));
  return keyed.map((k) => k.a);
}
