// Runs the sync machine against a Git source and the store: each step's work, status and history bookkeeping.
import { createActor, fromPromise, type Actor, type ActorOptions } from 'xstate';
import type { Revision } from '../source/revision.ts';
import type { Store } from '../store/store.ts';
import { formatIssue, type Issue } from '../model/issue.ts';
import type { KubeObject } from '../model/object.ts';
import { gitKinds, kindInfo } from '../model/kinds.ts';
import { registerCrds } from '../model/custom-kinds.ts';
import { objectKey } from '../model/key.ts';
import { parseKey } from '../model/key.ts';
import { loadDesired, type TreeLookup } from './desired.ts';
import { recording, sameAnswers, type Read } from './recorded-reads.ts';
import type { Builder } from '../build/builder.ts';
import { makePlan, type Plan } from '../plan/plan.ts';
import { dataDeletionRefusal, dataDeletions } from '../plan/data-deletion.ts';
import { BUSY_STATES as BUSY, retryDelay, syncMachine, type StepResult, type SyncState } from './sync.machine.ts';
import { applyPlan } from './apply.ts';
import { record, type HistoryEntry } from './history.ts';
import { conditionsOf, syncStatusOf, type HealthReport, type ObjectSyncState, type StatusReport } from './status.ts';
import { HealthMonitor, type HealthAssessment } from './health-monitor.ts';
import type { ObjectHealth } from '../health/types.ts';

/** What the sync loop needs from a Git source (GitSource implements it). */
export interface RevisionSource extends TreeLookup {
  fetch(): Promise<void>;
  head(): Promise<string>;
  read(sha: string): Promise<Revision>;
  watch(onChange: () => void): () => Promise<void>;
}

export interface SyncerOptions {
  repository: string;
  branch: string;
  path: string;
  strict?: boolean;
  /** serve --allow-host-path. */
  allowHostPath?: string[];
  /** Keeps kustomize's output across revisions (serve: cached under <data-dir>/builds). */
  builder?: Builder;
  retryBaseMs?: number;
  retryMaxMs?: number;
  now?: () => Date;
  clock?: ActorOptions<typeof syncMachine>['clock'];
}

/** Persisted under meta key `sync`: what must survive a restart, small (the inventory is a record of its own). */
interface Persisted {
  lastApplied?: string;
  lastAttempted?: string;
  history: HistoryEntry[];
}

/** Before the inventory had its own record, `sync` carried it whole: read once, then moved. */
interface LegacyPersisted extends Persisted {
  inventory?: string[];
  applied?: Record<string, string>;
}

const META_KEY = 'sync';
const EMPTY: ReadonlySet<string> = new Set();
/**
 * Meta key of the inventory: object key → the revision that last applied it, '' while only claimed (an apply under
 * way, or one that failed, may have created it). Its keys are what a plan may prune. Patched by entry, so a
 * commit writes the entries it changes, not the map.
 */
export const INVENTORY_KEY = 'inventory';
/** Meta key of /status: recomputed at start, so kept in memory only. */
const STATUS_KEY = 'status';

export class Syncer {
  private actor!: Actor<typeof syncMachine>;
  private persisted: Persisted = { history: [] };
  /** The inventory as persisted (INVENTORY_KEY), in the plan's order. */
  private inventory = new Map<string, string>();
  /** /status's entry per applied object, replaced only when that object's state changes. */
  private entries = new Map<string, ObjectSyncState>();
  /** What the last /status was built from, to rebuild only what changed. */
  private built: { objects?: ObjectSyncState[]; inventory?: string[]; pending: ReadonlySet<string> } = { pending: EMPTY };
  private revision?: Revision;
  private objects: KubeObject[] = [];
  /** The CRDs in the store when the revision was validated. */
  private appliedCrds: KubeObject[] = [];
  private warnings: Issue[] = [];
  private plan?: Plan;
  private stopWatch?: () => Promise<void>;
  private stateSince = new Date();
  private stepStarted = Date.now();
  private timings: Record<string, number> = {};
  private lastState: SyncState = 'idle';
  private suspendReason?: string;
  private listeners = new Set<(s: StatusReport) => void>();
  private monitor?: HealthMonitor;
  private health: HealthReport;
  private objectHealth: Record<string, ObjectHealth> = {};
  /** Bumped when an apply starts and when it ends (odd while applying), to tell stale assessments (onAssessed). */
  private applyEpoch = 0;
  /** The epoch in which the assessment under way read its keys. */
  private assessEpoch = 0;
  private readonly now: () => Date;
  /** What the last load was of and read, and its errors: a revision with the same inputs is not loaded again. */
  private lastLoad?: { key: string; reads: Read[]; errors: Issue[] };
  /** Loads skipped because their inputs were the last load's; for tests and the bench. */
  readonly stats = { loadsReused: 0 };

  constructor(private source: RevisionSource, private store: Store, private opts: SyncerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.health = { status: 'Unknown', message: 'no revision applied yet', reasons: [], since: this.now().toISOString() };
  }

  async start(): Promise<void> {
    await this.restore();
    const machine = syncMachine.provide({
      actors: {
        fetch: fromPromise(async () => {
          await this.source.fetch();
          return this.source.head();
        }),
        load: fromPromise(async ({ input }: { input: { head: string } }) => {
          this.revision = await this.source.read(input.head);
          await this.noteDetected(this.revision);
        }),
        validate: fromPromise(async (): Promise<StepResult> => {
          const inventory = this.inventory;
          this.appliedCrds = await this.store.list('CustomResourceDefinition'); // only a sync writes CRDs: still true at plan
          const appliedCrds = this.appliedCrds.map((object) => ({ object, fromGit: inventory.has(objectKey(object)) }));
          const rev = this.revision!;
          // The same --path tree, the same CRDs, and the same answers to whatever the last load read outside the
          // tree (a commit to a README, a CI file, another app): the same result, so the load is not run again.
          const key = JSON.stringify([rev.tree, appliedCrds.map((c) => [objectKey(c.object), c.object.metadata.resourceVersion, c.fromGit])]);
          if (this.lastLoad?.key === key && await sameAnswers(this.lastLoad.reads, this.source, rev.sha)) {
            this.stats.loadsReused++;
            return { errors: this.lastLoad.errors };
          }
          this.lastLoad = undefined;
          const reads: Read[] = [];
          // Shared: an unchanged document's object is the very one of the last load (frozen), so the plan diffs only
          // what changed; nothing here writes into them (apply writes copies).
          const result = await loadDesired(rev, recording(this.source, reads), { strict: this.opts.strict, allowHostPath: this.opts.allowHostPath, root: this.opts.path, appliedCrds, shared: true }, this.opts.builder);
          this.warnings = result.issues.filter((i) => i.severity === 'warning');
          this.objects = result.objects.map((d) => d.object);
          const errors = result.issues.filter((i) => i.severity === 'error');
          // Only a load without errors is kept: a failed build (kustomize missing, a timeout) is tried again.
          if (!errors.length) this.lastLoad = { key, reads, errors };
          return { errors };
        }),
        plan: fromPromise(async () => {
          // Custom resources are keyed, listed and stored in their CRD's scope: this revision's kinds are known first.
          const crds = this.objects.filter((o) => o.kind === 'CustomResourceDefinition');
          const kept = this.appliedCrds.filter((c) => !crds.some((d) => d.metadata.name === c.metadata.name));
          registerCrds([...kept, ...crds]);
          // Shared (read only, replaced on change, never changed in place): no copy of every live object per commit.
          const live = (await Promise.all(gitKinds().map((k) => this.store.list(k, { shared: true })))).flat();
          const plan = makePlan({ desired: this.objects, live, inventory: this.inventory.keys() });
          // Data is deleted only when the commit says so: otherwise the whole revision is refused.
          const refusal = dataDeletionRefusal(dataDeletions(plan, live, this.revision?.message));
          if (refusal) throw new Error(refusal);
          this.plan = plan;
        }),
        apply: fromPromise(async ({ input }: { input: { head: string } }) => {
          // Claimed before writing (the store writes in order, so the claim is on disk no later than the objects):
          // should the apply fail halfway, what it created can still be pruned later.
          const claims: Record<string, string> = {};
          for (const key of this.plan!.inventory) if (!this.inventory.has(key)) this.inventory.set(key, claims[key] = '');
          if (Object.keys(claims).length) {
            this.built.inventory = undefined;
            await this.store.patchMeta(INVENTORY_KEY, claims);
          }
          this.applyEpoch++;
          try {
            await applyPlan(this.store, this.plan!, input.head, this.revision?.sha === input.head ? this.revision.message : undefined);
            await this.noteApplied(input.head, this.plan!);
          } finally {
            this.applyEpoch++;
            this.monitor?.poke(); // also after a failed apply: what it did write changes health too
          }
        }),
      },
    });
    this.actor = createActor(machine, {
      input: { lastApplied: this.persisted.lastApplied, retryBaseMs: this.opts.retryBaseMs, retryMaxMs: this.opts.retryMaxMs },
      // Passing `clock: undefined` would replace xstate's real clock.
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
    });
    this.actor.subscribe((snap) => void this.onState(snap.value as SyncState));
    this.actor.start();
    if (this.suspendReason !== undefined) this.actor.send({ type: 'SUSPEND' });
    this.monitor = new HealthMonitor(this.store, () => {
      this.assessEpoch = this.applyEpoch;
      return [...this.entries.keys()];
    }, (h) => void this.onAssessed(h));
    await this.monitor.start();
    this.stopWatch = this.source.watch(() => this.actor.send({ type: 'CHANGE' }));
    this.actor.send({ type: 'CHANGE' });
  }

  /**
   * The revision the last run detected and did not finish (a sync cut off by a crash), known once start() has read
   * what was persisted. The first pass applies the branch head: this revision, unless the branch has moved on since.
   */
  interrupted(): string | undefined {
    const sha = this.persisted.lastAttempted;
    return sha && sha !== this.persisted.lastApplied && this.persisted.history.find((h) => h.sha === sha)?.result === 'Pending' ? sha : undefined;
  }

  /** Resolves once the first pass after start() has an outcome (synced, failed, or suspended). */
  firstOutcome(): Promise<SyncState> {
    return new Promise((resolve) => {
      const sub = this.actor.subscribe((s) => {
        if (['synced', 'failed', 'suspended'].includes(s.value as string)) { sub.unsubscribe(); resolve(s.value as SyncState); }
      });
      const now = this.state;
      if (['synced', 'failed', 'suspended'].includes(now)) { sub.unsubscribe(); resolve(now); }
    });
  }

  /** Works before start() too: then not even the first sync runs. */
  suspend(reason = '') {
    this.suspendReason = reason;
    this.actor?.send({ type: 'SUSPEND' });
  }
  resume() {
    this.suspendReason = undefined;
    this.actor?.send({ type: 'RESUME' });
  }

  /** Stops watching, lets a running sync finish (never half-applied), writes status. */
  async stop(): Promise<void> {
    await this.stopWatch?.();
    if (BUSY.has(this.state)) {
      await new Promise<void>((resolve) => {
        const sub = this.actor.subscribe((s) => {
          if (!BUSY.has(s.value as SyncState)) { sub.unsubscribe(); resolve(); }
        });
      });
    }
    this.actor.stop();
    await this.monitor?.stop();
    await this.writeStatus();
  }

  get state(): SyncState { return this.actor.getSnapshot().value as SyncState; }

  onStatus(fn: (s: StatusReport) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  status(): StatusReport {
    const ctx = this.actor.getSnapshot().context;
    const state = this.state;
    const sync = syncStatusOf(state, ctx.head, ctx.lastApplied);
    const message = state === 'suspended'
      ? `sync is suspended${this.suspendReason ? `: ${this.suspendReason}` : ''}`
      : ctx.error ?? (sync === 'Synced' ? `applied revision ${ctx.lastApplied?.slice(0, 7)}` : state);
    const now = this.now().toISOString();
    this.rebuild();
    const { objects, inventory } = this.built;
    const delay = state === 'failed' ? retryDelay(ctx) : undefined;
    return {
      repository: this.opts.repository,
      branch: this.opts.branch,
      path: this.opts.path,
      head: ctx.head,
      lastAttemptedRevision: this.persisted.lastAttempted,
      lastAppliedRevision: ctx.lastApplied,
      state,
      stateSince: this.stateSince.toISOString(),
      sync,
      message,
      error: ctx.error,
      errors: ctx.errors,
      warnings: this.warnings,
      timings: { ...this.timings }, // changed in place as steps end; the report is kept as is
      nextRetryAt: delay !== undefined ? new Date(this.stateSince.getTime() + delay).toISOString() : undefined,
      conditions: conditionsOf(sync, message, ctx.errors.length > 0, now),
      health: this.health,
      inventory: inventory!,
      objects: objects!,
      history: this.persisted.history,
    };
  }

  private async onState(state: SyncState): Promise<void> {
    if (state !== this.lastState) {
      const t = Date.now();
      if (state === 'fetching') this.timings = {};
      if (BUSY.has(this.lastState)) this.timings[this.lastState] = t - this.stepStarted;
      this.stepStarted = t;
      this.stateSince = this.now();
      if (state === 'failed') this.noteFailed();
      this.lastState = state;
    }
    await this.writeStatus();
  }

  private async writeStatus(): Promise<void> {
    const s = this.status();
    await this.store.setMeta(META_KEY, this.persisted); // small: compared, and written only when it changed
    await this.store.setMeta(STATUS_KEY, s, { persist: false });
    for (const fn of this.listeners) fn(s);
  }

  /**
   * Brings /status's objects and inventory up to date with what changed since the last build: entries are
   * replaced only for objects whose state changed, and the arrays are rebuilt (of the same entries) only then.
   */
  private rebuild(): void {
    const pending: ReadonlySet<string> = BUSY.has(this.state) && this.plan ? this.stepKeys(this.plan) : EMPTY;
    if (pending !== this.built.pending) {
      const before = this.built.pending;
      this.built.pending = pending;
      for (const key of before) this.refresh(key);
      for (const key of pending) this.refresh(key);
    }
    this.built.inventory ??= [...this.inventory.keys()];
    this.built.objects ??= [...this.entries.values()];
  }

  private stepSets = new WeakMap<Plan, ReadonlySet<string>>();
  private stepKeys(plan: Plan): ReadonlySet<string> {
    let keys = this.stepSets.get(plan);
    if (!keys) this.stepSets.set(plan, (keys = new Set(plan.steps.map((s) => s.key))));
    return keys;
  }

  /** Rebuilds one object's /status entry (or drops it: no longer applied). */
  private refresh(key: string): void {
    const revision = this.inventory.get(key);
    const had = this.entries.get(key);
    if (!revision) {
      if (had) {
        this.entries.delete(key);
        this.built.objects = undefined;
      }
      return;
    }
    const { kind, namespace, name } = had ?? parseKey(key);
    const h = this.objectHealth[key];
    const next: ObjectSyncState = {
      key, kind, namespace, name, mode: had?.mode ?? (kindInfo(kind)?.mode === 'kept' ? 'kept' : 'run'), revision,
      status: this.built.pending.has(key) ? 'OutOfSync' : 'Synced', health: h?.status, healthMessage: h?.message,
    };
    if (had && had.revision === next.revision && had.status === next.status && had.health === next.health && had.healthMessage === next.healthMessage) return;
    this.entries.set(key, next);
    this.built.objects = undefined;
  }

  /** A new assessment of the applied revision: status and the revision's timeline (first healthy, first degraded). */
  private async onAssessed(h: HealthAssessment): Promise<void> {
    // Begun before or during an apply, it judged a half-written store, maybe against the previous revision's keys:
    // it must not touch that revision's (frozen) entry. The apply pokes the monitor again once it is done.
    if (this.assessEpoch !== this.applyEpoch || this.applyEpoch % 2 === 1) return;
    const sha = this.persisted.lastApplied;
    if (!sha) return; // nothing applied (yet): "no objects" is not Healthy
    const at = this.now().toISOString();
    const was = this.health;
    const since = h.status === was.status && sha === was.revision ? was.since : at;
    this.health = { status: h.status, message: h.message, reasons: h.reasons, revision: sha, since };
    let changed = h.status !== was.status || h.message !== was.message || sha !== was.revision
      || h.reasons.length !== was.reasons.length || h.reasons.some((r, i) => r !== was.reasons[i]);
    // Only the objects whose health changed get a new /status entry.
    const previous = this.objectHealth;
    this.objectHealth = h.objects;
    for (const key of this.entries.keys()) {
      const a = previous[key], b = h.objects[key];
      if (a?.status === b?.status && a?.message === b?.message) continue;
      this.refresh(key);
      changed = true;
    }
    const entry = this.persisted.history.find((e) => e.sha === sha && e.result === 'Applied');
    let timeline = false;
    if (entry && (entry.health !== h.status || entry.healthMessage !== h.message)) {
      const patch: Partial<HistoryEntry> = { health: h.status, healthMessage: h.message };
      if (h.status === 'Healthy' && !entry.healthyAt) patch.healthyAt = at;
      if (h.status === 'Degraded' && !entry.degradedAt) Object.assign(patch, { degradedAt: at, degradedReason: h.message });
      this.persisted.history = this.updateLatest(sha, patch);
      timeline = true;
    }
    if (timeline || changed) await this.writeStatus();
  }

  private async noteDetected(rev: Revision): Promise<void> {
    this.persisted.lastAttempted = rev.sha;
    // The applied revision read again (a retry after an error elsewhere): the same deployment of the same commit,
    // whose entry keeps its timeline and health.
    if (this.isRunningEntry(rev.sha)) return;
    this.persisted.history = record(this.persisted.history, {
      sha: rev.sha, message: rev.message.split('\n')[0], author: `${rev.author.name} <${rev.author.email}>`, commitTime: rev.commitTime,
      detectedAt: this.now().toISOString(), result: 'Pending', created: 0, updated: 0, pruned: 0, errors: 0,
    });
  }

  /** The revision is applied: the inventory becomes its objects (written as the entries that changed). */
  private async noteApplied(sha: string, plan: Plan): Promise<void> {
    const again = this.isRunningEntry(sha);
    const written = new Set<string>();
    for (const s of plan.steps) if (s.action !== 'prune') written.add(s.key);
    const before = this.inventory;
    const next = new Map<string, string>();
    const patch: Record<string, string | undefined> = {};
    for (const key of plan.inventory) {
      const revision = written.has(key) ? sha : before.get(key) || sha;
      next.set(key, revision);
      if (before.get(key) !== revision) patch[key] = revision;
    }
    for (const key of before.keys()) if (!next.has(key)) patch[key] = undefined;
    this.inventory = next;
    // Same objects in the plan's order; only the changed ones get new entries.
    const entries = this.entries;
    this.entries = new Map();
    for (const key of next.keys()) {
      const had = entries.get(key);
      if (had) this.entries.set(key, had);
      if (!had || key in patch) this.refresh(key);
    }
    this.built.objects = this.built.inventory = undefined;
    this.persisted = {
      ...this.persisted,
      lastApplied: sha,
      history: again ? this.persisted.history
        : this.updateLatest(sha, { result: 'Applied', appliedAt: this.now().toISOString(), created: plan.create, updated: plan.update, pruned: plan.prune }),
    };
    if (Object.keys(patch).length) await this.store.patchMeta(INVENTORY_KEY, patch);
  }

  /** Reads what the last run persisted (moving an inventory kept whole in `sync` by an older version to its own record). */
  private async restore(): Promise<void> {
    const { inventory: legacyKeys, applied: legacyApplied, ...persisted } = (await this.store.getMeta<LegacyPersisted>(META_KEY)) ?? { history: [] };
    this.persisted = { ...this.persisted, ...persisted };
    let stored = await this.store.getMeta<Record<string, string>>(INVENTORY_KEY, { shared: true });
    if (!stored && legacyKeys) {
      stored = Object.fromEntries(legacyKeys.map((k) => [k, legacyApplied?.[k] ?? '']));
      await this.store.patchMeta(INVENTORY_KEY, stored);
      await this.store.setMeta(META_KEY, this.persisted);
    }
    // In the plan's order (sorted), whatever order patches left the record in.
    this.inventory = new Map(Object.entries(stored ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.entries = new Map();
    for (const key of this.inventory.keys()) this.refresh(key);
    this.built = { pending: EMPTY };
  }

  /** Called before lastState moves on: lastState is the step that failed. */
  private noteFailed(): void {
    // Failing to fetch or resolve the branch says nothing of the revision last read; nor does a retry's failure
    // undo the revision that is running. Both show in /status, not in the revisions' history.
    if (this.lastState === 'fetching') return;
    const ctx = this.actor.getSnapshot().context;
    const sha = this.persisted.lastAttempted;
    // A refused revision's entry names the first error where it is: /status lists them only while it is current.
    const [first] = ctx.errors;
    const error = first ? `${ctx.error}: ${formatIssue(first)}${ctx.errors.length > 1 ? ` (and ${ctx.errors.length - 1} more)` : ''}` : ctx.error;
    if (sha && sha === ctx.head && !this.isRunningEntry(sha)) this.persisted.history = this.updateLatest(sha, { result: 'Failed', errors: ctx.errors.length, error });
  }

  /** `sha` is the applied revision and its entry says so: it is running, and its timeline is written. */
  private isRunningEntry(sha: string): boolean {
    return sha === this.persisted.lastApplied && this.persisted.history.some((h) => h.sha === sha && h.result === 'Applied');
  }

  private updateLatest(sha: string, patch: Partial<HistoryEntry>): HistoryEntry[] {
    return this.persisted.history.map((h) => (h.sha === sha ? { ...h, ...patch } : h));
  }
}
