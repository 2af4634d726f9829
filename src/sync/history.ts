// A bounded, persisted record of the revisions the sync loop has seen: when each was committed, detected, applied,
// and became healthy or degraded.
import type { HealthStatus } from '../health/types.ts';

export interface HistoryEntry {
  sha: string;
  message: string;
  author: string;
  commitTime: string;
  detectedAt: string;
  appliedAt?: string;
  result: 'Applied' | 'Failed' | 'Pending';
  created: number;
  updated: number;
  pruned: number;
  errors: number;
  error?: string;
  /** The revision's health while it is the applied one (frozen when a newer one is applied). */
  health?: HealthStatus;
  healthMessage?: string;
  /** When all its objects were first Healthy: "merged → running" is healthyAt − commitTime. */
  healthyAt?: string;
  /** When it first turned Degraded, and why. */
  degradedAt?: string;
  degradedReason?: string;
}

export const HISTORY_LIMIT = 50;

/**
 * Newest first, one entry per revision. A retry of a revision not applied yet keeps when it was first detected; a
 * revision applied before, that the branch comes back to, is deployed anew: its entry starts over.
 */
export function record(history: HistoryEntry[], entry: HistoryEntry, limit = HISTORY_LIMIT): HistoryEntry[] {
  const rest = history.filter((h) => h.sha !== entry.sha);
  const earlier = history.find((h) => h.sha === entry.sha);
  const merged = earlier && earlier.result !== 'Applied' ? { ...entry, detectedAt: earlier.detectedAt } : entry;
  return [merged, ...rest].slice(0, limit);
}
