// Kubernetes timestamps have second precision: `2024-05-01T10:00:00Z`. The last second's text is kept: a burst of
// writes (a pod's status, its events) asks for the same second thousands of times (1% of a hollow pod's CPU).
let last = { second: NaN, text: '' };
export const isoSeconds = (d: Date): string => {
  const second = Math.floor(d.getTime() / 1000);
  if (second !== last.second) last = { second, text: d.toISOString().replace(/\.\d+Z$/, 'Z') };
  return last.text;
};

/**
 * `+250ms`, `+1.5s`, `+2m5s`: how long after `from` the step at `to` happened, the latency a user cares about
 * ("merged → applied"); '' when it has not happened. Never negative: a committer's clock may run ahead of ours.
 */
export function delayAfter(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return '';
  const ms = Math.max(0, Date.parse(to) - Date.parse(from));
  if (ms < 1000) return `+${ms}ms`;
  // Rounded once, before splitting, so 59.96 s is `+1m0s` rather than `+60.0s`, and 119.6 s `+2m0s` rather than `+1m60s`.
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `+${(tenths / 10).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `+${Math.floor(s / 60)}m${s % 60}s`;
}
