// Keeps the applied revision's health current: re-assesses its objects shortly after anything in the store changes.
import type { Store } from '../store/store.ts';
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

export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopWatch?: () => void;
  private running = Promise.resolve();
  /** How long the last assessment took: the next waits at least a few times that, so a storm of changes in a big
   * store does not turn into back-to-back full assessments that hold the event loop. */
  private lastCostMs = 0;

  /** `keys`: the applied revision's objects, read at each assessment. */
  constructor(
    private store: Store,
    private keys: () => string[],
    private onAssessed: (h: HealthAssessment) => void,
    private delayMs = 50,
  ) {}

  async start(): Promise<void> {
    // Events are records about objects, never a reason for their health to change.
    this.stopWatch = await this.store.watch({}, (e) => { if (e.object.kind !== 'Event') this.poke(); });
    this.poke();
  }

  /** Something may have changed: assess within `delayMs`, once for a burst of changes. */
  poke(): void {
    if (this.timer || !this.stopWatch) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(async () => {
        const t0 = performance.now();
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
    const objects: KubeObject[] = (await Promise.all(KINDS.map((k) => this.store.list(k)))).flat();
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
