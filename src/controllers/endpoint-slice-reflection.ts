// EndpointSlices committed for a Service without a selector are routed to, as kube-proxy (which reads only
// slices) routes to them. convergit's proxy, DNS and Ingress read Endpoints, so this controller reflects such
// slices into an Endpoints object of the Service's name, marked as a reflection: the API hides it (a cluster has
// no Endpoints there) and serves the committed slices themselves. An Endpoints object someone else wrote (git,
// the endpoints controller) is never touched: committed Endpoints win over committed slices.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../model/object.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { REFLECTED_FROM, SERVICE_NAME_LABEL, isReflection } from '../model/reflected-endpoints.ts';
import type { ControllerSpec } from './controller.ts';
import type { EndpointSubset } from './endpoint-subsets.ts';
import { compareText } from '../model/compare-text.ts';


const hasSelector = (svc: KubeObject) => Object.keys(svc.spec?.selector ?? {}).length > 0;

/** The subsets the slices give: one per distinct port list, ready and not-ready addresses apart (IPv4 only). */
export function subsetsOfSlices(slices: KubeObject[]): EndpointSubset[] {
  const byPorts = new Map<string, EndpointSubset>();
  for (const slice of [...slices].sort((a, b) => compareText(a.metadata.name, b.metadata.name))) {
    if (slice.addressType !== 'IPv4') continue; // the proxy routes IPv4
    const ports = ((slice.ports ?? []) as any[]).filter((p) => typeof p.port === 'number').map((p) => ({
      ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    const key = JSON.stringify(ports);
    const subset: EndpointSubset = byPorts.get(key) ?? { ports };
    byPorts.set(key, subset);
    for (const ep of (slice.endpoints ?? []) as any[]) {
      // An unset `ready` means ready, as kube-proxy reads it.
      const list = ep.conditions?.ready === false ? (subset.notReadyAddresses ??= []) : (subset.addresses ??= []);
      for (const ip of ep.addresses ?? []) list.push({ ip, ...(ep.hostname ? { hostname: ep.hostname } : {}), ...(ep.nodeName ? { nodeName: ep.nodeName } : {}), ...(ep.targetRef ? { targetRef: ep.targetRef } : {}) } as any);
    }
  }
  return [...byPorts.values()].filter((s) => s.addresses?.length || s.notReadyAddresses?.length);
}

export function endpointSliceReflection(): ControllerSpec {
  return {
    name: 'endpointslice-reflection',
    kinds: ['Service', 'EndpointSlice', 'Endpoints'],

    watch(ctx, enqueue) {
      const bySlice = (s: KubeObject) => {
        const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
        if (svc) enqueue(keyOf({ metadata: { namespace: s.metadata.namespace, name: svc } }));
      };
      ctx.informer('EndpointSlice').on({ add: bySlice, update: (old, s) => { bySlice(old); bySlice(s); }, delete: bySlice });
      ctx.informer('Service').on({ add: (s) => enqueue(keyOf(s)), update: (_o, s) => enqueue(keyOf(s)), delete: (s) => enqueue(keyOf(s)) });
      ctx.informer('Endpoints').on({ add: (e) => enqueue(keyOf(e)), update: (_o, e) => enqueue(keyOf(e)), delete: (e) => enqueue(keyOf(e)) });
    },

    initialKeys(ctx) {
      const fromSlices = ctx.informer('EndpointSlice').list().flatMap((s) => {
        const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
        return svc ? [keyOf({ metadata: { namespace: s.metadata.namespace, name: svc } })] : [];
      });
      return [...new Set([...fromSlices, ...ctx.informer('Endpoints').list().filter(isReflection).map(keyOf)])];
    },

    async sync(key, ctx) {
      const { namespace, name } = splitKey(key);
      const svc = ctx.informer('Service').get(namespace, name);
      const current = ctx.informer('Endpoints').get(namespace, name);
      if (current && !isReflection(current)) return; // git's or the endpoints controller's
      const slices = ctx.informer('EndpointSlice').list(namespace).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
      if (!svc || hasSelector(svc) || slices.length === 0) {
        if (current) await ctx.store.delete('Endpoints', namespace, name);
        return;
      }
      const subsets = subsetsOfSlices(slices);
      const from = slices.map((s) => s.metadata.name).sort().join(',');
      if (!current) {
        await ctx.store.create({
          apiVersion: 'v1', kind: 'Endpoints',
          metadata: { name, namespace, annotations: { [REFLECTED_FROM]: from } },
          ...(subsets.length && { subsets }),
        }, { shared: true });
        return;
      }
      if (isDeepStrictEqual(current.subsets ?? [], subsets) && current.metadata.annotations?.[REFLECTED_FROM] === from) return;
      // Other annotations (the proxy's acknowledgement) are kept; the store copies what it keeps, and the result is not read.
      const { subsets: _old, ...rest } = current;
      const next = { ...rest, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [REFLECTED_FROM]: from } }, ...(subsets.length && { subsets }) };
      await ctx.store.update(next, { shared: true });
    },
  };
}
