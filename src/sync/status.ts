// What /status shows: the sync loop's state, the revisions, errors and per-object sync state. Computed, then stored.
import type { Issue } from '../model/issue.ts';
import type { PortConflict } from '../model/port-conflict.ts';
import type { HistoryEntry } from './history.ts';
import type { HealthStatus } from '../health/types.ts';
import { BUSY_STATES, type SyncState } from './sync.machine.ts';

export type SyncStatus = 'Synced' | 'OutOfSync' | 'Progressing' | 'Failed';

export interface ObjectSyncState {
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  status: 'Synced' | 'OutOfSync';
  /** run: a controller acts on it; kept: stored and served, nothing enforces it. */
  mode: 'run' | 'kept';
  /** The revision that last applied it. */
  revision?: string;
  health?: HealthStatus;
  healthMessage?: string;
}

/** The applied revision's health: the worst of its objects, and for a revision not healthy yet, the chain of reasons. */
export interface HealthReport {
  status: HealthStatus;
  message: string;
  reasons: string[];
  /** The revision assessed. */
  revision?: string;
  /** Since when `status` holds. */
  since: string;
}

export interface Condition {
  type: 'Ready' | 'Reconciling' | 'Stalled';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface StatusReport {
  repository: string;
  branch: string;
  path: string;
  head?: string;
  lastAttemptedRevision?: string;
  lastAppliedRevision?: string;
  state: SyncState;
  /** Since when the loop is in `state`. */
  stateSince: string;
  sync: SyncStatus;
  message: string;
  error?: string;
  errors: Issue[];
  warnings: Issue[];
  /** Durations in ms of each step of the last run. */
  timings: Record<string, number>;
  nextRetryAt?: string;
  conditions: Condition[];
  health: HealthReport;
  /** Keys of the objects git owns: a plan may prune only these. */
  inventory: string[];
  objects: ObjectSyncState[];
  history: HistoryEntry[];
  /** Added by the API: ports this serve could not open on the shared --host (another holds them), model/port-conflict.ts. */
  portConflicts?: PortConflict[];
}

export function syncStatusOf(state: SyncState, head: string | undefined, lastApplied: string | undefined): SyncStatus {
  if (BUSY_STATES.has(state)) return 'Progressing';
  if (state === 'failed') return 'Failed';
  return head !== undefined && head === lastApplied ? 'Synced' : 'OutOfSync';
}

/** Flux-style conditions: Ready, Reconciling, Stalled, each with a reason. */
export function conditionsOf(sync: SyncStatus, message: string, hasValidationErrors: boolean, now: string): Condition[] {
  const c = (type: Condition['type'], on: boolean, reason: string): Condition => ({
    type, status: on ? 'True' : 'False', reason, message, lastTransitionTime: now,
  });
  return [
    c('Ready', sync === 'Synced', sync === 'Synced' ? 'ReconciliationSucceeded' : sync === 'Failed' ? (hasValidationErrors ? 'ValidationFailed' : 'ReconciliationFailed') : 'Progressing'),
    c('Reconciling', sync === 'Progressing', sync === 'Progressing' ? 'Progressing' : 'Idle'),
    // A revision with validation errors will not fix itself: only a new commit helps.
    c('Stalled', sync === 'Failed' && hasValidationErrors, hasValidationErrors ? 'ValidationFailed' : 'None'),
  ];
}
