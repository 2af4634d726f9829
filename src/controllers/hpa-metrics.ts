// The resource metrics the HorizontalPodAutoscaler reads: what each node's usage reporter wrote to the store's meta
// `usage/<node>` (the record metrics.k8s.io serves PodMetrics from; see docs/engine.md, Resource usage), summed per
// pod over its containers as the HPA's metrics client does. A pod missing a container's sample has no metric.
import type { KubeObject } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { usageKey, type NodeUsage } from '../model/node-usage.ts';
import type { PodMetric } from './hpa-replica-calculator.ts';


/** By pod name: cpu in cores or memory in bytes, with the sample's time and window. */
export async function podResourceMetrics(store: Store, nodes: KubeObject[], pods: KubeObject[], resource: string): Promise<Map<string, PodMetric>> {
  const byUid = new Map<string, { u: NodeUsage; values: Map<string, number> }>();
  for (const n of nodes) {
    const u = await store.getMeta<NodeUsage>(usageKey(n.metadata.name));
    for (const c of u?.containers ?? []) {
      const e = byUid.get(c.podUID) ?? { u: u!, values: new Map() };
      e.values.set(c.container, resource === 'cpu' ? c.cpuNanoCores / 1e9 : c.memoryBytes);
      byUid.set(c.podUID, e);
    }
  }
  const out = new Map<string, PodMetric>();
  for (const p of pods) {
    const e = byUid.get(p.metadata.uid ?? '');
    if (!e) continue;
    const names: string[] = (p.spec?.containers ?? []).map((c: { name: string }) => c.name);
    if (!names.every((n) => e.values.has(n))) continue;
    out.set(p.metadata.name, {
      value: names.reduce((sum, n) => sum + e.values.get(n)!, 0),
      timestamp: new Date(e.u.timestamp),
      windowMs: e.u.windowSeconds * 1000,
    });
  }
  return out;
}
