// Durations printed as Go's time.Duration.String() prints them, because Kubernetes messages quote them
// ("back-off 1m20s restarting failed container=…").

export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h) return `${h}h${m}m${trim(s)}s`;
  if (m) return `${m}m${trim(s)}s`;
  return `${trim(s)}s`;
}

const trim = (n: number) => String(Number(n.toFixed(9)));
