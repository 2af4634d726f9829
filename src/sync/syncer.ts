// Runs the sync machine against a Git source and the store: each step's work, status and history bookkeeping.
import { createActor, fromPromise, type Actor, type ActorOptions } from 'xstate';
import type { ReadOptions, Revision } from '../source/revision.ts';
import { Preload } from '../manifests/load-manifests.ts';
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
import { keyOf } from '../plan/pair.ts';
import { dataDeletionRefusal, dataDeletions } from '../plan/data-deletion.ts';
import { BUSY_STATES as BUSY, retryDelay, syncMachine, type StepResult, type SyncState } from './sync.machine.ts';
import { applyPlan } from './apply.ts';
import { record, type HistoryEntry } from './history.ts';
import { conditionsOf, syncStatusOf, type HealthReport, type ObjectSyncState, type StatusReport } from './status.ts';
import { HealthMonitor, type HealthAssessment } from './health-monitor.ts';
import type { ObjectHealth } from '../health/types.ts';
import { intern } from '../model/intern.ts';
import { compareText } from '../model/compare-text.ts';

/** What the sync loop needs from a Git source (GitSource implements it). */
export interface RevisionSource extends TreeLookup {
  fetch(): Promise<void>;
  head(): Promise<string>;
  read(sha: string, opts?: ReadOptions): Promise<Revision>;
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

/** A desired set by key, and its HorizontalPodAutoscalers; `inventory`: its keys sorted, once known. */
interface PlanBase { desired: KubeObject[]; byKey: Map<string, KubeObject>; hpas: KubeObject[]; inventory?: string[] }
interface Planned { plan: Plan; live: KubeObject[]; base: PlanBase }

function baseOf(desired: KubeObject[], inventory: string[] | undefined): PlanBase {
  const byKey = new Map<string, KubeObject>();
  for (const o of desired) byKey.set(keyOf(o), o);
  return { desired, byKey, hpas: desired.filter((o) => o.kind === 'HorizontalPodAutoscaler'), inventory };
}

/**
 * The base of `desired` from the last one's, adding to `keys` the keys whose object changed, came or went, and
 * whether a HorizontalPodAutoscaler of git did (it changes how other keys pair). The loader keeps the order of files
 * and documents, so an unchanged document's object is at the same place: only the places that differ are looked at
 * (a one-file commit keys two objects, not 10,000), and the last base's map is changed in place (a plan takes the
 * base: it is not used again; 10,000 entries copied were ~4 ms a commit here). Another length, or most places
 * changed: every object is keyed and compared.
 */
function movedOn(base: PlanBase, desired: KubeObject[], keys: Set<string>): { next: PlanBase; hpaChanged: boolean } {
  const was = base.desired;
  const at: number[] = [];
  if (desired.length === was.length) {
    for (let i = 0; i < desired.length && at.length <= desired.length / 4; i++) if (desired[i] !== was[i]) at.push(i);
  }
  if (desired.length !== was.length || at.length > desired.length / 4) {
    const next = baseOf(desired, undefined);
    let hpaChanged = false;
    for (const [key, o] of next.byKey) if (base.byKey.get(key) !== o) { keys.add(key); hpaChanged ||= o.kind === 'HorizontalPodAutoscaler'; }
    for (const [key, o] of base.byKey) if (!next.byKey.has(key)) { keys.add(key); hpaChanged ||= o.kind === 'HorizontalPodAutoscaler'; }
    if (next.byKey.size === base.byKey.size && [...next.byKey.keys()].every((k) => base.byKey.has(k))) next.inventory = base.inventory;
    return { next, hpaChanged };
  }
  const byKey = base.byKey, size = byKey.size;
  let sameKeys = true, hpas = false;
  // Gone first, then come: an object that moved from one place to another stays.
  for (const i of at) {
    const key = keyOf(was[i]);
    keys.add(key);
    if (byKey.get(key) === was[i]) byKey.delete(key);
  }
  for (const i of at) {
    const key = keyOf(desired[i]);
    keys.add(key);
    byKey.set(key, desired[i]);
    if (key !== keyOf(was[i])) sameKeys = false;
    if (desired[i].kind === 'HorizontalPodAutoscaler' || was[i].kind === 'HorizontalPodAutoscaler') hpas = true;
  }
  const next = {
    desired,
    byKey,
    hpas: hpas ? desired.filter((o) => o.kind === 'HorizontalPodAutoscaler') : base.hpas,
    inventory: sameKeys && byKey.size === size ? base.inventory : undefined,
  };
  return { next, hpaChanged: hpas };
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
  /** The monitor's verdict of a key, as of the last assessment taken. */
  private objectHealth: (key: string) => ObjectHealth | undefined = () => undefined;
  /** Keys whose verdict changed in assessments not taken yet (begun during an apply): their entries are refreshed later. */
  private healthChanged = new Set<string>();
  /** The keys of `entries`, for the monitor: the same array until the set of keys changes. */
  private entryKeys?: string[];
  /** Bumped when an apply starts and when it ends (odd while applying), to tell stale assessments (onAssessed). */
  private applyEpoch = 0;
  /** The epoch in which the assessment under way read its keys. */
  private assessEpoch = 0;
  private readonly now: () => Date;
  /** What the last load was of and read, and its errors: a revision with the same inputs is not loaded again. */
  private lastLoad?: { key: string; reads: Read[]; errors: Issue[] };
  /** Loads skipped because their inputs were the last load's, plans made of changed keys only (and the keys they
   * paired); for tests and the bench. */
  readonly stats = { loadsReused: 0, plansIncremental: 0, keysPlanned: 0 };
  /** Keys of the inventory whose live object changed since the last plan began (the store's watch): what it must pair again. */
  private liveChanged = new Set<string>();
  private stopLiveWatch?: () => void;
  /** The desired set of the last plan applied in full, by key: the next plan pairs only what changed since. */
  private planBase?: PlanBase;
  /** The desired set of the plan being applied; becomes planBase once the apply succeeds. */
  private planning?: PlanBase;
  /** The parse workers the last read handed its blobs to, until the load that follows waits for them. */
  private preload?: Preload;
  /** plan.inventory of the last plan noted: a plan with the very same array has the inventory's keys. */
  private notedInventory?: string[];
  /** The read, load and plan of the revision a restart found applied already (prime()), until done; never rejects. */
  private priming?: Promise<void>;
  private primingPreload?: Preload;
  /** prime() is tried once: one that failed leaves the work to the next pass, as before. */
  private primed = false;
  private stopping = false;

  constructor(private source: RevisionSource, private store: Store, private opts: SyncerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.health = { status: 'Unknown', message: 'no revision applied yet', reasons: [], since: this.now().toISOString() };
  }

  async start(): Promise<void> {
    await this.restore();
    const machine = syncMachine.provide({
      actors: {
        fetch: fromPromise(async () => {
          await this.priming; // its read is the base of this pass's
          await this.source.fetch();
          return this.source.head();
        }),
        load: fromPromise(async ({ input }: { input: { head: string } }) => {
          // The blobs read (all of them at a cold start) go to the loader's parse workers as they are read.
          this.preload?.abort();
          const preload = this.preload = await this.newPreload();
          this.revision = await this.source.read(input.head, preload.hooks).catch((e) => {
            preload.abort();
            // Tried and refused (too many files, a corrupt object): attempted all the same, as Flux records it.
            this.persisted.lastAttempted = input.head;
            throw e;
          });
          await this.noteDetected(this.revision);
        }),
        validate: fromPromise(async (): Promise<StepResult> => {
          // The read's parse workers: waited for by the load below, ended if anything fails first.
          const preload = this.preload;
          this.preload = undefined;
          try {
            return await this.loadRevision(this.revision!, preload);
          } finally {
            preload?.abort();
          }
        }),
        plan: fromPromise(async () => {
          this.registerRevisionCrds();
          // Taken now: what changes from here on (this plan's own apply included) is the next plan's to pair.
          const base = this.planBase, changed = this.liveChanged;
          this.planBase = this.planning = undefined;
          this.liveChanged = new Set();
          const made = (base && await this.planChanged(base, changed)) ?? await this.planAll();
          // Data is deleted only when the commit says so: otherwise the whole revision is refused.
          const refusal = dataDeletionRefusal(dataDeletions(made.plan, made.live, this.revision?.message));
          if (refusal) throw new Error(refusal);
          this.plan = made.plan;
          this.planning = made.base;
        }),
        apply: fromPromise(async ({ input }: { input: { head: string } }) => {
          // Claimed before writing (the store writes in order, so the claim is on disk no later than the objects):
          // should the apply fail halfway, what it created can still be pruned later.
          const claims: Record<string, string> = {};
          if (this.plan!.inventory !== this.notedInventory) for (const key of this.plan!.inventory) if (!this.inventory.has(key)) this.inventory.set(key, claims[key] = '');
          if (Object.keys(claims).length) {
            this.built.inventory = undefined;
            await this.store.patchMeta(INVENTORY_KEY, claims);
          }
          this.applyEpoch++;
          try {
            await applyPlan(this.store, this.plan!, input.head, this.revision?.sha === input.head ? this.revision.message : undefined);
            await this.noteApplied(input.head, this.plan!);
            // Applied in full: the next plan pairs only what changes from here (a failed apply leaves no base: the
            // next plan pairs everything, whatever this one left half done).
            this.planBase = this.planning;
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
    this.stopLiveWatch = await this.store.watch({ shared: true }, (e) => {
      if (e.object.kind === 'Event') return;
      // objectKey, not keyOf: each version is seen here once, and remembering its key in keyOf's WeakMap grew that
      // table by every write of a storm (270,000 at 30,000 pods): the longest stalls of that run (up to 0.5 s of CPU)
      // were in it.
      const key = objectKey(e.object);
      // Only a key git owns or has claimed can pair differently: a live object no commit had is neither updated
      // nor pruned by a plan (makePlan), and one a later commit brings in is paired then, as a desired key that
      // came. So the pods, ReplicaSets and endpoints that controllers write cost nothing here (their keys were
      // 2 MB after a first sync of 10,000 objects, and a storm of pods made the next plan pair everything).
      if (this.inventory.has(key)) this.liveChanged.add(key);
    });
    this.actor.subscribe((snap) => void this.onState(snap.value as SyncState));
    this.actor.start();
    if (this.suspendReason !== undefined) this.actor.send({ type: 'SUSPEND' });
    this.monitor = new HealthMonitor(this.store, () => {
      this.assessEpoch = this.applyEpoch;
      return (this.entryKeys ??= [...this.entries.keys()]);
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

  /** Custom resources are keyed, listed and stored in their CRD's scope: the loaded revision's kinds are known first. */
  private registerRevisionCrds(): void {
    const crds = this.objects.filter((o) => o.kind === 'CustomResourceDefinition');
    const kept = this.appliedCrds.filter((c) => !crds.some((d) => d.metadata.name === c.metadata.name));
    registerCrds([...kept, ...crds]);
  }

  /**
   * A start that finds its branch's head applied already reads, loads and plans nothing; the first commit after it
   * then read every blob, loaded every file and paired every key (2.3 s at 10,000 objects, where a commit costs
   * ~0.1 s). So that revision is read, loaded and planned now, in the background, as the passes do it, without
   * applying: the next pass reads and loads only what its commit changed, and, when the plan found nothing to do
   * (the store holds what git says), pairs only the keys that changed since. Whatever fails here is left to that
   * pass, which then does it all as before.
   */
  private prime(head: string): void {
    this.primed = true;
    this.priming = (async () => {
      const preload = this.primingPreload = await this.newPreload();
      if (this.stopping) return;
      // Its own: a suspension meanwhile empties this.revision's files, as between passes.
      const rev = this.revision = await this.source.read(head, preload.hooks);
      if (this.stopping) return;
      const { errors } = await this.loadRevision(rev, preload);
      if (errors?.length || this.stopping) return;
      this.registerRevisionCrds();
      this.liveChanged = new Set(); // as a plan takes it: what changes from here is the next plan's to pair
      const made = await this.planAll();
      // A base only for what the store holds as git says, under the inventory the watch follows (a load that
      // now makes other keys, after an upgrade or a changed remote base, would leave some unwatched).
      const inventory = made.plan.inventory;
      if (!made.plan.steps.length && inventory.length === this.inventory.size && inventory.every((k) => this.inventory.has(k))) this.planBase = made.base;
      else registerCrds(this.appliedCrds); // the kinds the store serves stay those applied until a pass applies git's
      await this.writeStatus(); // the revision's warnings: not kept across a restart, known again now
    })().catch(() => {}).finally(() => {
      this.primingPreload?.abort();
      this.forgetFiles(); // as between passes
      this.priming = this.primingPreload = undefined;
    });
  }

  /** The loader's parse workers for a read, with serve's load cache. */
  private async newPreload(): Promise<Preload> {
    return new Preload({ strict: this.opts.strict, root: this.opts.path, cache: await this.opts.builder?.loads() });
  }

  /** The revision's files are read no more once loaded (at 10,000 objects, ~7 MB kept for nothing). */
  private forgetFiles(): void {
    if (this.revision?.files.length) this.revision = { ...this.revision, files: [] };
  }

  /** The validate step: the revision read loaded (or the last load's answer, when nothing it read changed). */
  private async loadRevision(rev: Revision, preload: Preload | undefined): Promise<StepResult> {
    const inventory = this.inventory;
    this.appliedCrds = await this.store.list('CustomResourceDefinition'); // only a sync writes CRDs: still true at plan
    const appliedCrds = this.appliedCrds.map((object) => ({ object, fromGit: inventory.has(objectKey(object)) }));
    // The same --path tree, the same CRDs, and the same answers to whatever the last load read outside the
    // tree (a commit to a README, a CI file, another app): the same result, so the load is not run again.
    const key = JSON.stringify([rev.tree, appliedCrds.map((c) => [objectKey(c.object), c.object.metadata.resourceVersion, c.fromGit])]);
    if (this.lastLoad?.key === key && await sameAnswers(this.lastLoad.reads, this.source, rev.sha)) {
      this.stats.loadsReused++; // the read's workers, if any, are not needed: ended by the step
      return { errors: this.lastLoad.errors };
    }
    this.lastLoad = undefined;
    const reads: Read[] = [];
    // Shared: an unchanged document's object is the very one of the last load (frozen), so the plan diffs only
    // what changed; nothing here writes into them (apply writes copies).
    const result = await loadDesired(rev, recording(this.source, reads), { strict: this.opts.strict, allowHostPath: this.opts.allowHostPath, root: this.opts.path, appliedCrds, shared: true, preload }, this.opts.builder);
    this.warnings = result.issues.filter((i) => i.severity === 'warning');
    this.objects = result.objects.map((d) => d.object);
    const errors = result.issues.filter((i) => i.severity === 'error');
    // Only a load without errors is kept: a failed build (kustomize missing, a timeout) is tried again.
    if (!errors.length) this.lastLoad = { key, reads, errors };
    return { errors };
  }

  /** Stops watching, lets a running sync finish (never half-applied), writes status. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopWatch?.();
    if (BUSY.has(this.state)) {
      await new Promise<void>((resolve) => {
        const sub = this.actor.subscribe((s) => {
          if (!BUSY.has(s.value as SyncState)) { sub.unsubscribe(); resolve(); }
        });
      });
    }
    this.actor.stop();
    this.preload?.abort(); // a read whose load will not come: its parsing is not waited for
    this.primingPreload?.abort();
    await this.priming;
    this.stopLiveWatch?.();
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
      // Between passes the plan and the revision's files are read no more (at 10,000 objects, ~7 MB kept for nothing):
      // the next pass reads and plans again.
      if (!BUSY.has(state)) {
        this.plan = undefined;
        this.forgetFiles();
      }
      if (state === 'synced' && !this.revision && !this.primed) this.prime(this.actor.getSnapshot().context.head!);
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

  /** Rebuilds one object's /status entry (or drops it: no longer applied); whether it changed. */
  private refresh(key: string): boolean {
    const revision = this.inventory.get(key);
    const had = this.entries.get(key);
    if (!revision) {
      if (had) {
        this.entries.delete(key);
        this.built.objects = this.entryKeys = undefined;
        return true;
      }
      return false;
    }
    const { kind, namespace, name } = had ?? parseKey(key);
    const h = this.objectHealth(key);
    const next: ObjectSyncState = {
      key, kind, namespace, name, mode: had?.mode ?? (kindInfo(kind)?.mode === 'kept' ? 'kept' : 'run'), revision,
      status: this.built.pending.has(key) ? 'OutOfSync' : 'Synced', health: h?.status, healthMessage: h?.message,
    };
    if (had && had.revision === next.revision && had.status === next.status && had.health === next.health && had.healthMessage === next.healthMessage) return false;
    if (!had) this.entryKeys = undefined;
    if (next.healthMessage) next.healthMessage = intern(next.healthMessage); // kept till the verdict changes
    this.entries.set(key, next);
    this.built.objects = undefined;
    return true;
  }

  /** A new assessment of the applied revision: status and the revision's timeline (first healthy, first degraded). */
  private async onAssessed(h: HealthAssessment): Promise<void> {
    // Kept for later: the monitor reports each changed verdict once.
    for (const key of h.changed ?? this.entries.keys()) this.healthChanged.add(key);
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
    // The monitor's verdicts by key, or (an assessment that failed) the record it gave.
    this.objectHealth = h.verdict ?? ((objects) => (key: string) => objects[key])(h.objects);
    const keys = this.healthChanged;
    this.healthChanged = new Set();
    for (const key of keys) if (this.entries.has(key) && this.refresh(key)) changed = true;
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

  /** A plan of the whole desired set against every live object of the kinds git may own. */
  private async planAll(): Promise<Planned> {
    // Shared (read only, replaced on change, never changed in place): no copy of every live object per commit.
    const live = (await Promise.all(gitKinds().map((k) => this.store.list(k, { shared: true })))).flat();
    const plan = makePlan({ desired: this.objects, live, inventory: this.inventory.keys() });
    this.stats.keysPlanned += this.objects.length;
    return { plan, live, base: baseOf(this.objects, plan.inventory) };
  }

  /**
   * The plan of the whole desired set made of the keys that can differ from the last plan applied in full: those
   * whose desired object changed (the loader hands out the same frozen object for an unchanged document), came or
   * went, and those whose live object changed since (the store's watch); every other key was paired by that plan
   * and applied, so it pairs as unchanged. Plus every HorizontalPodAutoscaler (who owns which replicas). Undefined
   * (plan everything) when a CRD or an HPA of git changed, which changes how other keys pair, or when most keys changed.
   */
  private async planChanged(base: PlanBase, liveChanged: ReadonlySet<string>): Promise<Planned | undefined> {
    const desired = this.objects;
    const keys = new Set(liveChanged);
    const { next, hpaChanged } = desired === base.desired ? { next: base, hpaChanged: false } : movedOn(base, desired, keys);
    if (hpaChanged || keys.size > desired.length / 4 + 100) return undefined;
    const kinds = new Set(gitKinds());
    for (const key of keys) if (parseKey(key).kind === 'CustomResourceDefinition') return undefined;
    for (const h of next.hpas) keys.add(keyOf(h));
    const want: KubeObject[] = [], live = new Set<KubeObject>();
    for (const key of keys) {
      const d = next.byKey.get(key);
      if (d) want.push(d);
      const { kind, namespace, name } = parseKey(key);
      if (!kinds.has(kind)) continue;
      // By kind, namespace and name: a live object of another apiVersion pairs (or is pruned) under its own key, as in a full plan.
      const l = await this.store.get(kind, namespace, name, { shared: true });
      if (l) live.add(l);
    }
    const part = makePlan({ desired: want, live: [...live], inventory: this.inventory.keys() });
    // The keys of the whole desired set, sorted as makePlan sorts them: the same array while they are the same keys.
    const inventory = next.inventory ??= [...next.byKey.keys()].sort();
    const plan: Plan = { ...part, inventory, unchanged: desired.length - part.create - part.update };
    this.stats.plansIncremental++;
    this.stats.keysPlanned += keys.size;
    // Claims are what the data-deletion check reads of the live state.
    return { plan, live: [...live, ...await this.store.list('PersistentVolumeClaim', { shared: true })], base: next };
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
    if (plan.inventory === this.notedInventory) {
      // The same keys as the inventory (all applied by now): only what this plan wrote changes revision.
      const patch: Record<string, string> = {};
      for (const s of plan.steps) {
        if (s.action === 'prune' || this.inventory.get(s.key) === sha) continue;
        this.inventory.set(s.key, patch[s.key] = sha);
        this.refresh(s.key);
      }
      this.notePersisted(sha, plan, again);
      if (Object.keys(patch).length) await this.store.patchMeta(INVENTORY_KEY, patch);
      return;
    }
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
    this.built.objects = this.built.inventory = this.entryKeys = undefined;
    this.notedInventory = plan.inventory;
    this.notePersisted(sha, plan, again);
    if (Object.keys(patch).length) await this.store.patchMeta(INVENTORY_KEY, patch);
  }

  private notePersisted(sha: string, plan: Plan, again: boolean): void {
    this.persisted = {
      ...this.persisted,
      lastApplied: sha,
      history: again ? this.persisted.history
        : this.updateLatest(sha, { result: 'Applied', appliedAt: this.now().toISOString(), created: plan.create, updated: plan.update, pruned: plan.prune }),
    };
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
    this.inventory = new Map(Object.entries(stored ?? {}).sort(([a], [b]) => compareText(a, b)));
    this.entries = new Map();
    for (const key of this.inventory.keys()) this.refresh(key);
    this.built = { pending: EMPTY };
    this.entryKeys = undefined;
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
