// Service health: Healthy once the cluster has given it what it needs (a clusterIP, nodePorts; the network
// allocator writes them), and, as Argo CD's health_service.go, a LoadBalancer only once it has an ingress address.
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

export function serviceHealth(svc: KubeObject): ObjectHealth {
  const name = `Service ${svc.metadata.name}`;
  const spec = svc.spec ?? {};
  const type: string = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return { status: 'Healthy', message: `${name}: ExternalName ${spec.externalName ?? ''}`.trimEnd() };
  if (spec.clusterIP === undefined || spec.clusterIP === '') return { status: 'Progressing', message: `${name}: waiting for a cluster IP` };
  const wantsNodePorts = type === 'NodePort' || (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
  const pending = wantsNodePorts ? (spec.ports ?? []).filter((p: { nodePort?: number }) => p.nodePort === undefined) : [];
  if (pending.length) {
    const ports = pending.map((p: { name?: string; port: number }) => p.name ?? String(p.port)).join(', ');
    const what = pending.length === 1 ? `a node port for port ${ports}` : `node ports for ports ${ports}`;
    return { status: 'Progressing', message: `${name}: waiting for ${what}` };
  }
  if (type === 'LoadBalancer' && !svc.status?.loadBalancer?.ingress?.length) {
    return { status: 'Progressing', message: `${name}: waiting for a load balancer address` };
  }
  const ip = spec.clusterIP === 'None' ? 'headless' : `cluster IP ${spec.clusterIP}`;
  return { status: 'Healthy', message: `${name}: ${type}, ${ip}` };
}
