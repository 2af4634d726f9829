// Shared by the controller tests: object builders, a context over real informers, a lagging or failing store.
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { Informer } from '../../src/store/informer.ts';
import type { ControllerContext } from '../../src/controllers/controller.ts';

export const SELECTOR = { matchLabels: { app: 'web' } };

export function replicaSet(name: string, replicas: number, extra: { minReadySeconds?: number; templateLabels?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      ...(extra.minReadySeconds !== undefined && { minReadySeconds: extra.minReadySeconds }),
      selector: SELECTOR,
      template: {
        metadata: { labels: extra.templateLabels ?? { app: 'web', 'pod-template-hash': '5d4f8c9b7' }, annotations: { team: 'blue' } },
        spec: { containers: [{ name: 'web', image: 'git:apps/web', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], restartPolicy: 'Always' },
      },
    },
  };
}

export function bare(name: string, labels: Record<string, string>, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels, ...extra },
    spec: { containers: [{ name: 'web', image: 'x' }] },
  };
}

/** What the scheduler and the node executor would write: a binding, then phase, IP and readiness. */
export async function runPod(store: Store, name: string, opts: { ready: boolean; ip?: string; readySince?: string; phase?: string; restarts?: number }): Promise<KubeObject> {
  const pod = (await store.get('Pod', 'default', name))!;
  if (!pod.spec.nodeName) await store.update({ ...pod, spec: { ...pod.spec, nodeName: 'node-1' } });
  const since = opts.readySince ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return store.updateStatus('Pod', 'default', name, {
    phase: opts.phase ?? 'Running',
    ...(opts.ip && { podIP: opts.ip }),
    conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False', lastTransitionTime: since }],
    containerStatuses: [{ name: 'web', ready: opts.ready, restartCount: opts.restarts ?? 0 }],
  });
}

export { lagging } from '../support/lagging-store.ts';

/** The store with some writes failing, as a full disk or a quota would make them. */
export function failing(store: Store, fails: (op: 'create' | 'delete', kind: string) => Error | undefined): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === 'create') {
        return async (o: KubeObject) => { const e = fails('create', o.kind); if (e) throw e; return target.create(o); };
      }
      if (prop === 'delete') {
        return async (kind: string, ...rest: [string | undefined, string]) => { const e = fails('delete', kind); if (e) throw e; return target.delete(kind, ...rest); };
      }
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A controller context over started informers of `kinds`, for calling a controller's watch and sync directly. */
export async function contextFor(store: Store, kinds: string[], now: () => Date = () => new Date()): Promise<ControllerContext & { stop(): void; logs: string[] }> {
  const informers = new Map(kinds.map((k) => [k, new Informer(store, k)]));
  await Promise.all([...informers.values()].map((i) => i.start()));
  const logs: string[] = [];
  return {
    store,
    informer: (kind) => informers.get(kind)!,
    now,
    log: (m) => { logs.push(m); },
    logs,
    stop: () => { for (const i of informers.values()) i.stop(); },
  };
}

export const ownedBy = (pod: KubeObject, owner: KubeObject) => pod.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller) ?? false;
export const isActive = (p: KubeObject) => !p.metadata.deletionTimestamp;
