// What `convergit plan` and `GET /plan` answer: a revision reviewed against a live state (or a base revision).
// This is the `--output json` format: fields are only ever added, never renamed (documented in docs/plan-json.md).
import type { Issue } from '../model/issue.ts';
import type { Operation } from '../plan/diff.ts';

export const PLAN_REPORT_VERSION = 'convergit.dev/v1' as const;

export interface PlanReport {
  apiVersion: typeof PLAN_REPORT_VERSION;
  kind: 'PlanReport';
  /** The revision reviewed. */
  ref: { name: string; sha: string; message?: string };
  /** What it is compared with. */
  against: Against;
  /** No validation errors. */
  valid: boolean;
  /** Every pod the plan adds fits on a node (true when scheduling could not be checked: see scheduling.checked). */
  schedulable: boolean;
  /** At least one object would be created, changed or pruned. */
  changed: boolean;
  /** Validation errors: the same ones `serve` refuses the commit for. */
  errors: Issue[];
  /** Manifest warnings and reviewer warnings, new and pre-existing (see ReviewWarning.preexisting). */
  warnings: ReviewWarning[];
  summary: { create: number; update: number; prune: number; unchanged: number };
  /** Creates and updates in apply order, then prunes. Empty when invalid. */
  changes: Change[];
  rollouts: RolloutImpact[];
  scheduling: SchedulingReport;
  /**
   * Changes that delete PersistentVolumeClaims (a pruned claim, a StatefulSet pruned or scaled down whose retention
   * policy deletes claims), each with how the commit confirms it. One without `confirmedBy` makes `serve` refuse the
   * revision. Empty when there are none.
   */
  dataDeletions: DataDeletion[];
}

export type { DataDeletion } from '../plan/data-deletion.ts';
import type { DataDeletion } from '../plan/data-deletion.ts';

export interface Against {
  /** `server`: a running convergit's read-only API; `data-dir`: its data folder; `base`: the desired state at a base revision. */
  source: 'server' | 'data-dir' | 'base';
  /** The server URL, the data folder, or the base ref as given. */
  name: string;
  /** The base commit, or the revision the server last applied. */
  sha?: string;
}

export interface Change {
  action: 'create' | 'update' | 'prune';
  kind: string;
  namespace?: string;
  name: string;
  /** Where the desired object is written (create/update). */
  file?: string;
  line?: number;
  /**
   * A unified diff of the object's YAML restricted to the changed fields (update), the whole object with `+`
   * (create) or `-` (prune) line prefixes. Lines have no trailing newline; joined with '\n'.
   */
  diff: string[];
  /** Update only: the JSON patch from live to desired (lists of named items keyed by name). Left out for Secrets. */
  patch?: Operation[];
  /** Update only: containers whose `git:` image moves to another tree of its folder, with the files that differ. */
  images?: ImageChange[];
}

export interface ImageChange {
  container: string;
  /** The repository folder the image is made of (`apps/web`). */
  dir: string;
  /** Tree oids, before and after. */
  from: string;
  to: string;
  /** Repository-relative paths, sorted. */
  files: { path: string; change: 'added' | 'deleted' | 'modified' }[];
}

export interface RolloutImpact {
  kind: string; // Deployment, ReplicaSet, Job, Pod or StatefulSet
  namespace: string;
  name: string;
  /**
   * `create`: new pods; `replace`: the pod template changes, pods are replaced; `scale`: replicas change, template
   * the same; `prune`: the workload and its pods are deleted.
   */
  action: 'create' | 'replace' | 'scale' | 'prune';
  replicas: { before: number; after: number };
  /** Pods started, and pods stopped, once the change has rolled out. */
  podsCreated: number;
  podsDeleted: number;
  strategy?: 'RollingUpdate' | 'Recreate' | 'OnDelete';
  /** StatefulSet: its updateStrategy's partition (ordinals below it keep the current revision). */
  partition?: number;
  /** StatefulSet: the ordinals started, stopped (highest first), rolled to the new template (in the order they roll) and kept at the current one. */
  ordinals?: { added: number[]; removed: number[]; rolled: number[]; kept: number[] };
  /** RollingUpdate only, resolved against the desired replicas as the Deployment controller does. */
  maxSurge?: number;
  maxUnavailable?: number;
  /** The new template equals an existing ReplicaSet's: a rollback that scales that ReplicaSet up instead of creating one. */
  reuses?: { replicaSet: string; revision?: string };
  /** One sentence for people, e.g. "replaces 3 pods, RollingUpdate (maxSurge 1, maxUnavailable 0)". */
  summary: string;
}

export interface SchedulingReport {
  /** False when the nodes are not known (a plan against a base revision): nothing else here is meaningful then. */
  checked: boolean;
  /** Why it was not checked. */
  reason?: string;
  nodes: number;
  /** Pods the plan adds that fit on no node, grouped by workload. */
  unschedulable: UnschedulablePods[];
  /** Requested (sum of pod requests on nodes) and allocatable, before and after the plan. */
  resources: { cpu: ResourceUse; memory: ResourceUse; pods: ResourceUse };
  /**
   * RollingUpdates with maxUnavailable 0 whose new pods needed before any old pod stops fit on no node beside the
   * pods running now: the end state fits, but the rollout would wait for room that never comes. Reported as
   * RolloutMayStall warnings; these workloads are not in `unschedulable`.
   */
  stalls?: RolloutStall[];
}

export interface RolloutStall {
  kind: string;
  namespace: string;
  name: string;
  /** Why, ending with the scheduler's reason, e.g. `0/2 nodes are available: 2 Insufficient cpu.` */
  message: string;
}

export interface UnschedulablePods {
  kind: string;
  namespace: string;
  name: string;
  /** How many of its pods would not fit, of how many it adds. */
  pods: number;
  of: number;
  /** Kubernetes' wording: `0/2 nodes are available: 2 Insufficient memory.` */
  message: string;
}

/** cpu in millicores, memory in bytes, pods as a count. */
export interface ResourceUse { allocatable: number; requestedBefore: number; requestedAfter: number }

export interface ReviewWarning {
  /** SelectorMatchesNoPods, MissingConfigMap, MissingSecret, NoResourceRequests, LatestImage, RolloutMayStall, or Manifest (a loader warning). */
  code: string;
  kind?: string;
  namespace?: string;
  name?: string;
  file?: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
  /**
   * The warning was already there before this change: the same one (code, object, field, message) holds in the state
   * compared with. Left out for a warning the change brings. Only new warnings ask for a look.
   */
  preexisting?: true;
}
