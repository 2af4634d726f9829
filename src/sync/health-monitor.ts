// Keeps the applied revision's health current: re-assesses its objects shortly after anything in the store changes.
import type { Store, WatchEvent } from '../store/store.ts';
import type { KubeObject } from '../model/object.ts';
import { gitKinds } from '../model/kinds.ts';
import { objectKey } from '../model/key.ts';
import { assessHealth } from '../health/registry.ts';
import { healthContext, type ObjectHealth } from '../health/types.ts';
import { missing, revisionHealth, type RevisionHealth } from '../health/revision.ts';

export interface HealthAssessment extends RevisionHealth {
  /** Per object key of the revision. */
  objects: Record<string, ObjectHealth>;
}

/** What the checks look at: the objects git may own (pods and ReplicaSets included) and the nodes. */
const KINDS = [...gitKinds(), 'Node'];

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
  /** Changes that asked for an assessment, and assessments run; for tests and the bench. */
  readonly stats = { pokes: 0, assessments: 0 };

  /** `keys`: the applied revision's objects, read at each assessment. */
  constructor(
    private store: Store,
    private keys: () => string[],
    private onAssessed: (h: HealthAssessment) => void,
    private delayMs = 50,
  ) {}

  async start(): Promise<void> {
    // Shared (read only): no copy of every change in the store just to look at its kind.
    this.stopWatch = await this.store.watch({ shared: true }, (e) => { if (this.matters(e)) this.poke(); });
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
    // Shared: assessing only reads, and a copy of every live object per assessment was most of its cost.
    const objects: KubeObject[] = (await Promise.all(KINDS.map((k) => this.store.list(k, { shared: true })))).flat();
    const byKey = new Map(objects.map((o) => [objectKey(o), o] as const));
    const ctx = healthContext(objects);
    const items = keys.map((key) => {
      const o = byKey.get(key);
      return { key, health: o ? assessHealth(o, ctx) : missing(key) };
    });
    if (!this.stopWatch) return;
    this.onAssessed({ ...revisionHealth(items), objects: Object.fromEntries(items.map((i) => [i.key, i.health])) });
  }
}
