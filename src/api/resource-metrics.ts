// metrics.k8s.io/v1beta1 as metrics-server serves it (`kubectl top pods`, `kubectl top nodes`): PodMetrics and
// NodeMetrics computed on read from what each node wrote to the store's meta `usage/<node>` (node/usage-reporter.ts).
// A pod is listed once one of its containers has a sample; a node's usage is the sum of its containers'.
import type { ServerResponse } from 'node:http';
import type { KindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import type { Requirement } from '../model/selector.ts';
import type { Store } from '../store/store.ts';
import { usageKey, type ContainerUsage, type NodeUsage } from '../model/node-usage.ts';
import { matchesFields, type FieldRequirement } from './field-selector.ts';
import { sendJson, sendStatus } from './responses.ts';
import { toTable, type Column, type IncludeObject } from './tables.ts';
import { formatQuantity, parseQuantity } from '../model/quantity.ts';
import { compareText } from '../model/compare-text.ts';

const GROUP = 'metrics.k8s.io';
const base = { group: GROUP, version: 'v1beta1', versions: ['v1beta1'], shortNames: [], categories: [], mode: 'kept' as const, reason: 'measured by the nodes', fromGit: false, definitions: {} };
export const METRICS_KINDS: readonly KindInfo[] = [
  { ...base, kind: 'NodeMetrics', resource: 'nodes', singular: '', namespaced: false },
  { ...base, kind: 'PodMetrics', resource: 'pods', singular: '', namespaced: true },
];

export const isResourceMetrics = (info: KindInfo) => info.group === GROUP;

/** Canonical quantities, as metrics-server writes them: cpu from nanocores (`3452745n`, `5m`), memory in bytes (`14212Ki`, `2Mi`). */
const cpu = (nanoCores: number) => formatQuantity(Math.round(nanoCores) / 1e9, 'decimalSI');
const memory = (bytes: number) => formatQuantity(Math.round(bytes), 'binarySI');
/** A Go duration as metav1.Duration prints it: `15s`, `1.004s`. */
const window = (s: number) => `${Number(s.toFixed(3))}s`;

async function usages(store: Store): Promise<Map<string, NodeUsage>> {
  const out = new Map<string, NodeUsage>();
  for (const n of await store.list('Node', { shared: true })) {
    const u = await store.getMeta<NodeUsage>(usageKey(n.metadata.name), { shared: true }); // read only
    if (u) out.set(n.metadata.name, u);
  }
  return out;
}

const meta = (o: KubeObject, now: string) => ({
  name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), creationTimestamp: now,
  ...(o.metadata.labels ? { labels: o.metadata.labels } : {}),
});

export interface MetricsQuery { namespace?: string; name?: string; labels?: Requirement[]; fields: FieldRequirement[]; table?: IncludeObject }

/** A node's usage, or a pod's summed over its containers, in base units (cores, bytes). */
function usageOf(o: KubeObject): Record<string, number> {
  const out: Record<string, number> = {};
  const lists: Record<string, string>[] = o.kind === 'NodeMetrics' ? [o.usage as Record<string, string>] : ((o.containers as any[]) ?? []).map((c) => c.usage ?? {});
  for (const usage of lists) for (const [k, v] of Object.entries(usage)) out[k] = (out[k] ?? 0) + parseQuantity(v);
  return out;
}

/**
 * metrics-server's table (addNodeMetricsToTable, addPodMetricsToTable): NAME, one column per resource of the first
 * item's usage, sorted (cpu, memory), as canonical quantities, then WINDOW; no columns when there are no items.
 */
export function metricsColumns(items: KubeObject[]): Column[] {
  if (!items.length) return [];
  const names = Object.keys(usageOf(items[0])).sort();
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', cell: (o) => o.metadata.name },
    ...names.map((n): Column => ({ name: n, type: 'string', format: 'quantity', description: '', cell: (o) => formatQuantity(usageOf(o)[n] ?? 0, n === 'memory' ? 'binarySI' : 'decimalSI') })),
    { name: 'Window', type: 'string', format: 'duration', description: '', cell: (o) => o.window },
  ];
}

/** GET/LIST of nodes or pods in metrics.k8s.io/v1beta1. */
export async function serveResourceMetrics(res: ServerResponse, store: Store, info: KindInfo, q: MetricsQuery): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const byNode = await usages(store);
  const items: KubeObject[] = [];
  if (info.kind === 'NodeMetrics') {
    for (const n of await store.list('Node', { labelSelector: q.labels })) {
      const u = byNode.get(n.metadata.name);
      if (!u) continue;
      const sum = (f: (c: ContainerUsage) => number) => u.containers.reduce((a, c) => a + f(c), 0);
      items.push({ kind: 'NodeMetrics', apiVersion: `${GROUP}/v1beta1`, metadata: meta(n, now), timestamp: u.timestamp, window: window(u.windowSeconds),
        usage: { cpu: cpu(sum((c) => c.cpuNanoCores)), memory: memory(sum((c) => c.memoryBytes)) } } as KubeObject);
    }
  } else {
    const byUid = new Map<string, { u: NodeUsage; containers: ContainerUsage[] }>();
    for (const u of byNode.values()) {
      for (const c of u.containers) {
        const e = byUid.get(c.podUID) ?? { u, containers: [] };
        e.containers.push(c);
        byUid.set(c.podUID, e);
      }
    }
    for (const p of await store.list('Pod', { namespace: q.namespace, labelSelector: q.labels })) {
      const e = byUid.get(p.metadata.uid ?? '');
      if (!e || p.status?.phase !== 'Running') continue;
      // In the pod's container order, as the kubelet reports them.
      const order: string[] = (p.spec?.containers ?? []).map((c: any) => c.name);
      const containers = [...e.containers].sort((a, b) => order.indexOf(a.container) - order.indexOf(b.container))
        .map((c) => ({ name: c.container, usage: { cpu: cpu(c.cpuNanoCores), memory: memory(c.memoryBytes) } }));
      items.push({ kind: 'PodMetrics', apiVersion: `${GROUP}/v1beta1`, metadata: meta(p, now), timestamp: e.u.timestamp, window: window(e.u.windowSeconds), containers } as KubeObject);
    }
  }
  const found = items.filter((o) => matchesFields(q.fields, o))
    .sort((a, b) => compareText(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`));
  if (q.name) {
    const one = found.find((o) => o.metadata.name === q.name);
    if (!one) return sendStatus(res, 404, `${info.kind === 'NodeMetrics' ? 'nodemetrics' : 'podmetrics'}.${GROUP} "${q.name}" not found`, { name: q.name, group: GROUP, kind: info.resource });
    return sendJson(res, 200, q.table ? toTable(info.kind, [one], '', q.table, {}, metricsColumns([one])) : one);
  }
  if (q.table) return sendJson(res, 200, toTable(info.kind, found, '', q.table, {}, metricsColumns(found)));
  sendJson(res, 200, { kind: `${info.kind}List`, apiVersion: `${GROUP}/v1beta1`, metadata: {}, items: found });
}
