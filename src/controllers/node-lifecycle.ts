// The node lifecycle controller, after kube-controller-manager's nodelifecycle and tainteviction controllers: a
// node whose heartbeats stop for the grace period (40 s) gets Ready=Unknown ("Kubelet stopped posting node
// status."), its pods are marked not Ready, and it is tainted node.kubernetes.io/unreachable (not-ready when
// the node itself says Ready=False); pods that do not tolerate a NoExecute taint are deleted, at once or after
// their tolerationSeconds (300 s unless the pod says otherwise: the store's DefaultTolerationSeconds admission
// writes them into every pod, model/default-tolerations.ts), and their controllers create replacements on the
// other nodes. Nodes left behind by a serve with fewer --nodes are such nodes.
// A node is heard from when its Ready condition's lastHeartbeatTime or its Lease's renewTime (kube-node-lease,
// renewed every 10 s; the Node's status is written only when it changes) moves on, as upstream's tryUpdateNodeHealth.
import { isDeepStrictEqual } from 'node:util';
import { setCondition, type Condition } from '../model/conditions.ts';
import type { KubeObject } from '../model/object.ts';
import { isPodTerminal } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';
import { taintsOf, type Toleration } from '../model/taints.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { desiredTaints, evictionTime } from './node-lifecycle-taints.ts';

export interface NodeLifecycleOptions {
  /** How long a node may go without a heartbeat before it is Unknown. Default 40 000 ms. */
  gracePeriodMs?: number;
}

const NODE_INDEX = 'nodeName';
const LEASE_NAMESPACE = 'kube-node-lease';
const heartbeatOf = (node: KubeObject) => ((node.status?.conditions ?? []) as Condition[]).find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '';
const hasNoExecute = (node: KubeObject | undefined) => !!node && taintsOf(node).some((t) => t.effect === 'NoExecute');
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function nodeLifecycleController(opts: NodeLifecycleOptions = {}): ControllerSpec {
  const grace = opts.gracePeriodMs ?? 40_000;
  /** Per node: the last heartbeat and lease renewal seen, and when (by our clock, as upstream's probeTimestamp: no
   * clock skew matters). */
  const probes = new Map<string, { heartbeat: string; renewTime: string; seenAt: number }>();
  /** Per node: when each of its NoExecute taints without a timeAdded (one written by hand or from git) was first
   * seen, from which its tolerationSeconds count (upstream's taint eviction counts from when it first saw the pod on
   * the tainted node); counted from each sync, the eviction would never come. */
  const taintSeen = new Map<string, Map<string, string>>();

  return {
    name: 'node-lifecycle',
    kinds: ['Node', 'Pod', 'Lease'],
    watch(ctx, enqueue) {
      ctx.informer('Pod').addIndex(NODE_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
      ctx.informer('Node').on({ add: (n) => enqueue(`/${n.metadata.name}`), update: (_o, n) => enqueue(`/${n.metadata.name}`), delete: (n) => { probes.delete(n.metadata.name); taintSeen.delete(n.metadata.name); } });
      const onLease = (l: KubeObject) => { if (l.metadata.namespace === LEASE_NAMESPACE) enqueue(`/${l.metadata.name}`); };
      ctx.informer('Lease').on({ add: onLease, update: (_o, l) => onLease(l) });
      // A pod matters here only on a node tainted NoExecute (upstream's taint eviction looks no further at a pod on
      // an untainted node): the taint's own write syncs the node, and so all of its pods. Binding 10,000 hollow
      // pods was 13,900 syncs of their nodes for nothing.
      const onPod = (p: KubeObject) => {
        const nodeName = p.spec?.nodeName;
        if (nodeName && hasNoExecute(ctx.informer('Node').get(undefined, nodeName))) enqueue(`/${nodeName}`);
      };
      ctx.informer('Pod').on({ add: onPod, update: (o, p) => { if (o.spec?.nodeName !== p.spec?.nodeName || !isDeepStrictEqual(o.spec?.tolerations, p.spec?.tolerations)) onPod(p); } });
    },
    async sync(key, ctx): Promise<SyncResult> {
      const name = key.slice(key.indexOf('/') + 1);
      let node = ctx.informer('Node').get(undefined, name);
      if (!node) return;
      const now = ctx.now(), nowMs = now.getTime(), nowIso = isoSeconds(now);
      const hb = heartbeatOf(node);
      const renewTime: string = ctx.informer('Lease').get(LEASE_NAMESPACE, name)?.spec?.renewTime ?? '';
      const probe = probes.get(name);
      // MicroTimes of one format compare as strings; a renewal only counts when it is later than the one seen.
      if (!probe || probe.heartbeat !== hb || renewTime > probe.renewTime) probes.set(name, { heartbeat: hb, renewTime, seenAt: nowMs });
      const silentFor = nowMs - probes.get(name)!.seenAt;
      let next: number | undefined;

      // 1. Heartbeats lost: every condition Unknown, the pods not Ready.
      const ready = ((node.status?.conditions ?? []) as Condition[]).find((c) => c.type === 'Ready');
      if (silentFor >= grace && ready?.status !== 'Unknown') {
        let conditions = node.status?.conditions as Condition[] | undefined;
        for (const c of conditions ?? []) {
          conditions = setCondition(conditions, { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }, nowIso);
        }
        // A node that never posted a status gets its Ready condition all the same (and is not written again).
        if (!ready) conditions = setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' }, nowIso);
        node = await ctx.store.updateStatus('Node', undefined, name, { ...node.status, conditions });
        ctx.log(`node-lifecycle: node ${name}: no heartbeat for ${Math.round(silentFor / 1000)}s: Ready=Unknown`);
        await ctx.store.recordEvent({ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`).catch(() => {});
        await markPodsNotReady(ctx, name, nowIso);
      } else if (silentFor < grace) next = grace - silentFor + 1;

      // 2. The taints its conditions and cordon call for.
      const taints = desiredTaints(node, nowIso);
      if (!isDeepStrictEqual(taints, node.spec?.taints ?? [])) {
        node = await ctx.store.update({ ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
      }

      // 3. Taint-based eviction of the pods that do not tolerate its NoExecute taints (long enough).
      // Made anew at each sync from the taints there now: one that went is forgotten.
      const seen = taintSeen.get(name);
      let still: Map<string, string> | undefined;
      const noExecute = taints.filter((t) => t.effect === 'NoExecute').map((t) => {
        if (t.timeAdded) return t;
        const id = `${t.key}\0${t.value ?? ''}`;
        const since = seen?.get(id) ?? now.toISOString(); // to the millisecond: not written, only counted from
        (still ??= new Map()).set(id, since);
        return { ...t, timeAdded: since };
      });
      if (still) taintSeen.set(name, still);
      else taintSeen.delete(name);
      if (noExecute.length) {
        for (const pod of ctx.informer('Pod').byIndex(NODE_INDEX, name).filter((p) => !isPodTerminal(p) && !p.metadata.deletionTimestamp)) {
          const at = evictionTime((pod.spec?.tolerations ?? []) as Toleration[], noExecute, nowMs);
          if (at === undefined) continue;
          if (at > nowMs) { next = Math.min(next ?? Infinity, at - nowMs + 1); continue; }
          await evict(ctx, pod, nowIso);
        }
      }
      return next === undefined ? undefined : { requeueAfterMs: next };
    },
  };
}

/** Ready=False on the node's pods, so Services stop sending them traffic (upstream's MarkPodsNotReady). */
async function markPodsNotReady(ctx: ControllerContext, nodeName: string, now: string): Promise<void> {
  for (const pod of ctx.informer('Pod').byIndex(NODE_INDEX, nodeName).filter((p) => !isPodTerminal(p))) {
    const conds = (pod.status?.conditions ?? []) as Condition[];
    if (!conds.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const conditions = setCondition(conds, { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: `Node ${nodeName} is not ready` }, now);
    await ctx.store.updateStatus('Pod', pod.metadata.namespace, pod.metadata.name, { ...pod.status, conditions }, { shared: true }).catch((e) => ctx.log(`node-lifecycle: ${pod.metadata.name}: ${errorText(e)}`));
  }
}

/** Deletes the pod as the taint eviction controller does: DisruptionTarget first, an event, then the delete. */
async function evict(ctx: ControllerContext, pod: KubeObject, now: string): Promise<void> {
  const { namespace, name } = pod.metadata;
  const conditions = setCondition(pod.status?.conditions, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' }, now);
  await ctx.store.updateStatus('Pod', namespace, name, { ...pod.status, conditions }, { shared: true }).catch(() => {});
  await ctx.store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace, name, uid: pod.metadata.uid }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${name}`).catch(() => {});
  await ctx.store.delete('Pod', namespace, name);
  ctx.log(`node-lifecycle: evicted ${namespace}/${name} from node ${pod.spec?.nodeName} (NoExecute taint)`);
}
