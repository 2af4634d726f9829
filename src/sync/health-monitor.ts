// Keeps the applied revision's health current: re-assesses its objects shortly after anything in the store changes.
import type { Store, WatchEvent } from '../store/store.ts';
import type { KubeObject } from '../model/object.ts';
import { gitKinds } from '../model/kinds.ts';
import { keyOf } from '../plan/pair.ts';
import { assessHealth } from '../health/registry.ts';
import { healthContext, type ObjectHealth } from '../health/types.ts';
import { missing, revisionHealth, type RevisionHealth } from '../health/revision.ts';

export interface HealthAssessment extends RevisionHealth {
  /** Per object key of the revision. */
  objects: Record<string, ObjectHealth>;
}

/** What the checks look at: the objects git may own (pods and ReplicaSets included) and the nodes. */
const KINDS = [...gitKinds(), 'Node'];

/**
 * The kinds each check reads besides its object (through the HealthContext). A kind not named here reads only its
 * object, so its verdict stands while that object is the same (the store replaces an object on every change).
 */
const READS: Record<string, readonly string[]> = {
  Deployment: ['ReplicaSet', 'Pod'], ReplicaSet: ['Pod'], ReplicationController: ['Pod'], Job: ['Pod'],
  StatefulSet: ['Pod'], DaemonSet: ['Pod'],
};
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
  /** The last verdict per key, with the live object it was about. */
  private last = new Map<string, { object: KubeObject | undefined; health: ObjectHealth }>();

  /** `keys`: the applied revision's objects, read at each assessment. */
  constructor(
    private store: Store,
    private keys: () => string[],
    private onAssessed: (h: HealthAssessment) => void,
    private delayMs = 50,
  ) {}

  async start(): Promise<void> {
    // Shared (read only): no copy of every change in the store just to look at its kind.
    this.stopWatch = await this.store.watch({ shared: true }, (e) => {
      if (!this.matters(e)) return;
      // A CRD changes what custom and kept kinds are: everything is judged again.
      if (e.object.kind === 'CustomResourceDefinition') this.changedKinds = undefined;
      else this.changedKinds?.add(e.object.kind);
      this.poke();
    });
    this.poke();
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
    this.stopWatch?.();
    this.stopWatch = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async assess(): Promise<void> {
    // Keys first: the caller may note what they belong to, and the objects listed after are at least as new.
    const keys = this.keys();
    const changed = this.changedKinds;
    this.changedKinds = new Set();
    // Shared: assessing only reads, and a copy of every live object per assessment was most of its cost.
    const objects: KubeObject[] = (await Promise.all(KINDS.map((k) => this.store.list(k, { shared: true })))).flat();
    const byKey = new Map(objects.map((o) => [keyOf(o), o] as const));
    const ctx = healthContext(objects);
    const last = this.last;
    this.last = new Map();
    const items = keys.map((key) => {
      const o = byKey.get(key);
      // Judged again only when its object, or a kind its check reads, changed since: a commit that changes one
      // ConfigMap judges one object, not the revision's 10,000.
      const was = last.get(key);
      const kind = o?.kind;
      const same = changed && was && was.object === o && !(kind && (ALWAYS.has(kind) || READS[kind]?.some((k) => changed.has(k))));
      const health = same ? was.health : o ? assessHealth(o, ctx) : missing(key);
      if (!same) this.stats.judged++;
      this.last.set(key, { object: o, health });
      return { key, health };
    });
    if (!this.stopWatch) return;
    this.onAssessed({ ...revisionHealth(items), objects: Object.fromEntries(items.map((i) => [i.key, i.health])) });
  }
}
