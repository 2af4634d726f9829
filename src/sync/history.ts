// A bounded, persisted record of the revisions the sync loop has seen: when each was committed, detected, applied.

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
}

export const HISTORY_LIMIT = 50;

/** Newest first. A retry of the same revision updates its entry instead of adding one. */
export function record(history: HistoryEntry[], entry: HistoryEntry, limit = HISTORY_LIMIT): HistoryEntry[] {
  const rest = history.filter((h) => h.sha !== entry.sha);
  const earlier = history.find((h) => h.sha === entry.sha);
  const merged = earlier ? { ...entry, detectedAt: earlier.detectedAt } : entry;
  return [merged, ...rest].slice(0, limit);
}
