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

/** Persisted under meta key `sync`: what must survive a restart. */
interface Persisted {
  lastApplied?: string;
  lastAttempted?: string;
  inventory: string[];
  /** key → revision that last wrote it */
  applied: Record<string, string>;
  history: HistoryEntry[];
}

const META_KEY = 'sync';

export class Syncer {
  private actor!: Actor<typeof syncMachine>;
  private persisted: Persisted = { inventory: [], applied: {}, history: [] };
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

  constructor(private source: RevisionSource, private store: Store, private opts: SyncerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.health = { status: 'Unknown', message: 'no revision applied yet', reasons: [], since: this.now().toISOString() };
  }

  async start(): Promise<void> {
    this.persisted = { ...this.persisted, ...(await this.store.getMeta<Persisted>(META_KEY)) };
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
          const inventory = new Set(this.persisted.inventory);
          this.appliedCrds = await this.store.list('CustomResourceDefinition'); // only a sync writes CRDs: still true at plan
          const appliedCrds = this.appliedCrds.map((object) => ({ object, fromGit: inventory.has(objectKey(object)) }));
          const result = await loadDesired(this.revision!, this.source, { strict: this.opts.strict, allowHostPath: this.opts.allowHostPath, root: this.opts.path, appliedCrds }, this.opts.builder);
          this.warnings = result.issues.filter((i) => i.severity === 'warning');
          this.objects = result.objects.map((d) => d.object);
          return { errors: result.issues.filter((i) => i.severity === 'error') };
        }),
        plan: fromPromise(async () => {
          // Custom resources are keyed, listed and stored in their CRD's scope: this revision's kinds are known first.
          const crds = this.objects.filter((o) => o.kind === 'CustomResourceDefinition');
          const kept = this.appliedCrds.filter((c) => !crds.some((d) => d.metadata.name === c.metadata.name));
          registerCrds([...kept, ...crds]);
          const live = (await Promise.all(gitKinds().map((k) => this.store.list(k)))).flat();
          const plan = makePlan({ desired: this.objects, live, inventory: this.persisted.inventory });
          // Data is deleted only when the commit says so: otherwise the whole revision is refused.
          const refusal = dataDeletionRefusal(dataDeletions(plan, live, this.revision?.message));
          if (refusal) throw new Error(refusal);
          this.plan = plan;
        }),
        apply: fromPromise(async ({ input }: { input: { head: string } }) => {
          // Claimed before writing: should the apply fail halfway, what it created can still be pruned later.
          this.persisted.inventory = [...new Set([...this.persisted.inventory, ...this.plan!.inventory])];
          await this.store.setMeta(META_KEY, this.persisted);
          this.applyEpoch++;
          try {
            await applyPlan(this.store, this.plan!, input.head, this.revision?.sha === input.head ? this.revision.message : undefined);
            this.noteApplied(input.head, this.plan!);
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
      return Object.keys(this.persisted.applied);
    }, (h) => void this.onAssessed(h));
    await this.monitor.start();
    this.stopWatch = this.source.watch(() => this.actor.send({ type: 'CHANGE' }));
    this.actor.send({ type: 'CHANGE' });
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
    const pending = new Set(BUSY.has(state) && this.plan ? this.plan.steps.map((s) => s.key) : []);
    const objects: ObjectSyncState[] = Object.entries(this.persisted.applied).map(([key, revision]) => {
      const { kind, namespace, name } = parseKey(key);
      const h = this.objectHealth[key];
      const mode = kindInfo(kind)?.mode === 'kept' ? 'kept' : 'run';
      return { key, kind, namespace, name, mode, revision, status: pending.has(key) ? 'OutOfSync' : 'Synced', health: h?.status, healthMessage: h?.message };
    });
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
      timings: this.timings,
      nextRetryAt: delay !== undefined ? new Date(this.stateSince.getTime() + delay).toISOString() : undefined,
      conditions: conditionsOf(sync, message, ctx.errors.length > 0, now),
      health: this.health,
      inventory: this.persisted.inventory,
      objects,
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
    await this.store.setMeta(META_KEY, this.persisted);
    await this.store.setMeta('status', s);
    for (const fn of this.listeners) fn(s);
  }

  /** A new assessment of the applied revision: status and the revision's timeline (first healthy, first degraded). */
  private async onAssessed(h: HealthAssessment): Promise<void> {
    // Begun before or during an apply, it judged a half-written store, maybe against the previous revision's keys:
    // it must not touch that revision's (frozen) entry. The apply pokes the monitor again once it is done.
    if (this.assessEpoch !== this.applyEpoch || this.applyEpoch % 2 === 1) return;
    const sha = this.persisted.lastApplied;
    if (!sha) return; // nothing applied (yet): "no objects" is not Healthy
    const at = this.now().toISOString();
    const before = JSON.stringify([this.health.status, this.health.message, this.health.reasons, this.health.revision, this.objectHealth]);
    const since = h.status === this.health.status && sha === this.health.revision ? this.health.since : at;
    this.health = { status: h.status, message: h.message, reasons: h.reasons, revision: sha, since };
    this.objectHealth = h.objects;
    const entry = this.persisted.history.find((e) => e.sha === sha && e.result === 'Applied');
    let timeline = false;
    if (entry && (entry.health !== h.status || entry.healthMessage !== h.message)) {
      const patch: Partial<HistoryEntry> = { health: h.status, healthMessage: h.message };
      if (h.status === 'Healthy' && !entry.healthyAt) patch.healthyAt = at;
      if (h.status === 'Degraded' && !entry.degradedAt) Object.assign(patch, { degradedAt: at, degradedReason: h.message });
      this.persisted.history = this.updateLatest(sha, patch);
      timeline = true;
    }
    const after = JSON.stringify([this.health.status, this.health.message, this.health.reasons, this.health.revision, this.objectHealth]);
    if (timeline || after !== before) await this.writeStatus();
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

  private noteApplied(sha: string, plan: Plan): void {
    const again = this.isRunningEntry(sha);
    const applied: Record<string, string> = {};
    for (const key of plan.inventory) applied[key] = this.persisted.applied[key] ?? sha;
    for (const s of plan.steps) if (s.action !== 'prune') applied[s.key] = sha;
    this.persisted = {
      ...this.persisted,
      lastApplied: sha,
      inventory: plan.inventory,
      applied,
      history: again ? this.persisted.history
        : this.updateLatest(sha, { result: 'Applied', appliedAt: this.now().toISOString(), created: plan.create, updated: plan.update, pruned: plan.prune }),
    };
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
