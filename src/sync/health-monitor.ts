// Keeps the applied revision's health current: re-assesses its objects shortly after anything in the store changes.
import type { Store, WatchEvent } from '../store/store.ts';
import type { KubeObject } from '../model/object.ts';
import { gitKinds, isNamespaced } from '../model/kinds.ts';
import { keyOf } from '../plan/pair.ts';
import { assessHealth } from '../health/registry.ts';
import { kindsContext, type ObjectHealth } from '../health/types.ts';
import { missing, revisionHealthOf, type RevisionHealth } from '../health/revision.ts';
import { parseKey } from '../model/key.ts';
import { Informer } from '../store/informer.ts';
import { controllerOf } from '../model/pod.ts';
import { TimeSlice } from '../model/time-slice.ts';
import { intern } from '../model/intern.ts';

export interface HealthAssessment extends RevisionHealth {
  /** Per object key of the revision (built when read: the monitor keeps its verdicts by key, see `verdict`). */
  readonly objects: Record<string, ObjectHealth>;
  /** The keys whose verdict this assessment changed (every key the first time). */
  changed?: ReadonlySet<string>;
  /** The current verdict of one key. */
  verdict?: (key: string) => ObjectHealth | undefined;
}

/** What the checks look at: the objects git may own (pods and ReplicaSets included) and the nodes. */
const KINDS = [...gitKinds(), 'Node'];

/**
 * The kinds checks read besides their object, through owned() (a Deployment its ReplicaSets and their pods, a
 * workload its pods, a CronJob its Jobs): kept by the monitor in informers indexed by controller, so a check finds
 * what an object owns without a list of every pod, and a change of one of them makes its owners (up the chain of
 * controller references) to be judged again, not every object of a kind that reads it. Any other check reads only
 * its object (or is in ALWAYS), so its verdict stands while that object is the same (the store replaces an object
 * on every change).
 */
const OWNED = ['ReplicaSet', 'Pod', 'Job'];
const CONTROLLER_UID = 'controller-uid';
/** By its controller reference's uid ('' : a reference without one, matched by kind and name). */
const controllerUid = (o: KubeObject) => {
  const ref = controllerOf(o);
  return ref ? [ref.uid ?? ''] : [];
};
/** What the monitor matches changes and revision keys by: kind, namespace and name (any apiVersion of the kind). */
const nameKey = (kind: string, namespace: string | undefined, name: string) => `${kind}/${isNamespaced(kind) ? namespace ?? 'default' : ''}/${name}`;
/** Owner chains are short (Pod → ReplicaSet → Deployment; Pod → Job → CronJob): a cycle of references stops here. */
const MAX_OWNER_DEPTH = 4;
/** More objects to judge than this (and a quarter of the revision): their kinds are listed rather than read by key. */
const MANY = 64;
/** An assessment judges for at most about this long before it lets the event loop turn. */
const SLICE_MS = 10;

/** Checks that also read the clock or process-wide state: judged again at every assessment. */
const ALWAYS = new Set(['Pod', 'Node', 'CronJob', 'Ingress']);

/** A node as the checks see it: without its heartbeat times, which the node renews every 10 s and say nothing new. */
const nodeAsJudged = (n: KubeObject) => JSON.stringify({
  ...n,
  metadata: { ...n.metadata, resourceVersion: undefined },
  status: { ...n.status, conditions: ((n.status?.conditions ?? []) as Record<string, unknown>[]).map(({ lastHeartbeatTime: _, ...c }) => c) },
});

export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopWatch?: () => void;
  private running = Promise.resolve();
  /** How long the last assessment took: the next waits at least a few times that, so a storm of changes in a big
   * store does not turn into back-to-back full assessments that hold the event loop. */
  private lastCostMs = 0;
  /** Each node as last judged, so a heartbeat alone does not cost an assessment of the whole revision. */
  private readonly nodes = new Map<string, string>();
  /** Changes that asked for an assessment, assessments run, and objects judged again in them; for tests and the bench. */
  readonly stats = { pokes: 0, assessments: 0, judged: 0 };
  /** Kinds changed since the last assessment began; undefined: judge everything (the first time, or a new CRD). */
  private changedKinds: Set<string> | undefined;
  /** Objects changed since the last assessment began, themselves or through what they own (nameKey). */
  private dirty = new Set<string>();
  /** The kinds of OWNED, kept current; read by the checks through the context (owned()). */
  private readonly owned = new Map<string, Informer>();
  /** The last verdict per key of the revision. */
  private verdicts = new Map<string, ObjectHealth>();
  /** The keys of `verdicts` that are not Healthy: what the revision's message and reasons are made of. */
  private notHealthy = new Set<string>();
  /** The keys last assessed, their positions (apply order), their keys by kind and by nameKey. */
  private seen: { keys?: readonly string[]; at: Map<string, number>; byKind: Map<string, string[]>; byName: Map<string, string[]> } =
    { at: new Map(), byKind: new Map(), byName: new Map() };

  /** `keys`: the applied revision's objects, read at each assessment. */
  constructor(
    private store: Store,
    private keys: () => string[],
    private onAssessed: (h: HealthAssessment) => void,
    private delayMs = 50,
  ) {}

  async start(): Promise<void> {
    for (const kind of OWNED) {
      const inf = new Informer(this.store, kind);
      inf.addIndex(CONTROLLER_UID, controllerUid);
      // Its owners read it: an object released or taken over changes its old owners too.
      inf.on({ add: (o) => this.ownersChanged(o), update: (old, o) => { this.ownersChanged(old); this.ownersChanged(o); }, delete: (o) => this.ownersChanged(o) });
      this.owned.set(kind, inf);
    }
    await Promise.all([...this.owned.values()].map((inf) => inf.start()));
    // Shared (read only): no copy of every change in the store just to look at its kind.
    this.stopWatch = await this.store.watch({ shared: true }, (e) => {
      if (!this.matters(e)) return;
      // A CRD changes what custom and kept kinds are: everything is judged again.
      if (e.object.kind === 'CustomResourceDefinition') this.changedKinds = undefined;
      else this.changedKinds?.add(e.object.kind);
      // Only objects of a kind the revision has can be one of its keys (pods, in a storm of them, are not).
      if (this.seen.byKind.has(e.object.kind)) this.dirty.add(nameKey(e.object.kind, e.object.metadata.namespace, e.object.metadata.name));
      this.poke();
    });
    this.poke();
  }

  /** Marks the owners of `o` changed, up its chain of controller references (a pod's ReplicaSet, then its Deployment). */
  private ownersChanged(o: KubeObject): void {
    const namespace = o.metadata.namespace;
    for (let ref = controllerOf(o), depth = 0; ref && depth < MAX_OWNER_DEPTH; depth++) {
      this.dirty.add(nameKey(ref.kind, namespace, ref.name));
      const owner = this.owned.get(ref.kind)?.get(namespace, ref.name);
      ref = owner && (!ref.uid || owner.metadata.uid === ref.uid) ? controllerOf(owner) : undefined;
    }
  }

  /** Events are records about objects, never a reason for their health to change; nor is a node's heartbeat (its
   * Lease, or the heartbeat times of its status). */
  private matters(e: WatchEvent): boolean {
    const o = e.object;
    if (o.kind === 'Event' || o.kind === 'Lease') return false;
    if (o.kind !== 'Node') return true;
    const before = this.nodes.get(o.metadata.name);
    if (e.type === 'DELETED') {
      this.nodes.delete(o.metadata.name);
      return true;
    }
    const now = nodeAsJudged(o);
    this.nodes.set(o.metadata.name, now);
    return now !== before;
  }

  /** Something may have changed: assess within `delayMs`, once for a burst of changes. */
  poke(): void {
    this.stats.pokes++;
    if (this.timer || !this.stopWatch) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(async () => {
        const t0 = performance.now();
        this.stats.assessments++;
        try {
          await this.assess();
        } finally {
          this.lastCostMs = performance.now() - t0;
        }
      }).catch((e) => {
        // Said in /status rather than swallowed: a health that silently stops changing would be a lie.
        if (this.stopWatch) this.onAssessed({ status: 'Unknown', message: `health could not be assessed: ${e instanceof Error ? e.message : String(e)}`, reasons: [], objects: {} });
      });
    }, Math.max(this.delayMs, 4 * this.lastCostMs));
  }

  async stop(): Promise<void> {
    for (const inf of this.owned.values()) inf.stop();
    this.stopWatch?.();
    this.stopWatch = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Judges again only the objects that changed, those of kinds whose check reads a kind that changed, and those
   * whose check reads the clock (everything the first time, or after a CRD changed): a commit that changes one
   * ConfigMap judges one object and reads one, not the revision's 10,000. The revision's health is made of the
   * verdicts that are not Healthy.
   */
  private async assess(): Promise<void> {
    // Keys first: the caller may note what they belong to, and the objects read after are at least as new.
    const keys = this.keys();
    const changed = this.changedKinds, dirty = this.dirty;
    this.changedKinds = new Set();
    this.dirty = new Set();
    const judge = new Set<string>();
    if (keys !== this.seen.keys) {
      const at = new Map<string, number>(), byKind = new Map<string, string[]>(), byName = new Map<string, string[]>();
      const push = (m: Map<string, string[]>, k: string, key: string) => {
        const list = m.get(k);
        if (list) list.push(key);
        else m.set(k, [key]);
      };
      keys.forEach((key, i) => {
        at.set(key, i);
        const { kind, namespace, name } = parseKey(key);
        push(byKind, kind, key);
        push(byName, intern(nameKey(kind, namespace, name)), key);
        if (!this.verdicts.has(key)) judge.add(key);
      });
      for (const key of this.verdicts.keys()) {
        if (at.has(key)) continue;
        this.verdicts.delete(key);
        this.notHealthy.delete(key);
      }
      this.seen = { keys, at, byKind, byName };
    }
    const { at, byKind, byName } = this.seen;
    if (!changed) for (const key of keys) judge.add(key);
    else {
      for (const name of dirty) for (const key of byName.get(name) ?? []) judge.add(key);
      for (const [kind, list] of byKind) if (ALWAYS.has(kind)) for (const key of list) judge.add(key);
    }
    // Shared: assessing only reads. Many to judge: their kinds listed once; a few: each read by key. Kinds checks
    // read besides come from the informers (OWNED), or are listed when a check reads them.
    const lists = new Map<string, readonly KubeObject[]>();
    let byKey: Map<string, KubeObject> | undefined;
    if (judge.size > MANY && judge.size > keys.length / 4) {
      const kinds = new Set([...judge].map((key) => parseKey(key).kind));
      await Promise.all([...kinds].filter((k) => KINDS.includes(k)).map(async (k) => lists.set(k, await this.store.list(k, { shared: true }))));
      byKey = new Map();
      for (const kind of kinds) for (const o of lists.get(kind) ?? []) byKey.set(keyOf(o), o);
    }
    let needed: string | undefined;
    const ctx = kindsContext((kind) => {
      const inf = this.owned.get(kind);
      if (inf) return inf.list();
      const list = lists.get(kind);
      if (!list) needed ??= kind;
      return list;
    }, (kind, uid) => this.owned.get(kind)?.byIndex(CONTROLLER_UID, uid));
    const changedKeys = new Set<string>();
    const slice = new TimeSlice(SLICE_MS);
    for (const key of judge) {
      // Judged over turns of the event loop, a slice at a time: 100 Deployments of 300 pods each held it for
      // hundreds of ms (the worst stalls of a 30,000-pod run). The verdicts read objects as they are when judged.
      if (slice.over) {
        await slice.next();
        if (!this.stopWatch) return;
      }
      let o: KubeObject | undefined;
      if (byKey) o = byKey.get(key);
      else {
        const { kind, namespace, name } = parseKey(key);
        o = await this.store.get(kind, namespace, name, { shared: true });
        if (o && keyOf(o) !== key) o = undefined; // another version of the kind: not the object git wants
      }
      let health = o ? assessHealth(o, ctx) : missing(key);
      // The check read a kind not listed yet: list it, judge again (the first verdict saw it empty).
      while (o && needed) {
        lists.set(needed, await this.store.list(needed, { shared: true }));
        needed = undefined;
        health = assessHealth(o, ctx);
      }
      this.stats.judged++;
      const was = this.verdicts.get(key);
      this.verdicts.set(key, health);
      if (health.status === 'Healthy') this.notHealthy.delete(key);
      else this.notHealthy.add(key);
      if (!was || !sameHealth(was, health)) changedKeys.add(key);
    }
    if (!this.stopWatch) return;
    const verdicts = this.verdicts;
    const bad = [...this.notHealthy].sort((a, b) => at.get(a)! - at.get(b)!).map((key) => ({ key, health: verdicts.get(key)! }));
    this.onAssessed(assessment(revisionHealthOf(bad, keys.length), changedKeys, keys, verdicts));
  }
}

/**
 * The assessment handed out, made outside assess(): closures made there would hold its whole scope (every kind's
 * list and the objects keyed, ~4 MB and stale versions at 10,000 objects) for as long as the syncer keeps `verdict`.
 */
function assessment(health: RevisionHealth, changed: ReadonlySet<string>, keys: readonly string[], verdicts: ReadonlyMap<string, ObjectHealth>): HealthAssessment {
  let objects: Record<string, ObjectHealth> | undefined;
  return {
    ...health,
    changed,
    verdict: (key) => verdicts.get(key),
    get objects() { return (objects ??= Object.fromEntries(keys.map((k) => [k, verdicts.get(k)!]))); },
  };
}

const sameHealth = (a: ObjectHealth, b: ObjectHealth) => a.status === b.status && a.message === b.message
  && (a.causes ?? []).length === (b.causes ?? []).length && (a.causes ?? []).every((c, i) => c === b.causes![i]);
