// The heartbeat the scheduler and the controller manager write of themselves to the store's meta
// `component/<name>` (kept in memory, never persisted), which the API's componentstatuses read
// (api/component-status.ts), as kube-apiserver probes kube-scheduler's and kube-controller-manager's /healthz.
// Its shape lives here, so components share the store and this contract, not each other's code.

/** The store meta key a component's heartbeat is written under. */
export const componentKey = (name: string) => `component/${name}`;

export interface ComponentHeartbeat {
  /** When it was written (RFC 3339). */
  time: string;
  /** How often it is written: three missed beats (at least 20 s) and the component counts as gone. */
  intervalMs: number;
  /** Named checks, as a /healthz lists them: null when it passes, else why it fails. */
  checks: Record<string, string | null>;
  /** Written once when the component stops. */
  stopped?: boolean;
}

/** What writes a heartbeat: the store's setMeta (structurally, so the model imports no store). */
interface MetaWriter { setMeta(key: string, value: unknown, opts?: { persist?: boolean }): Promise<void> }

export const HEARTBEAT_MS = 2_000;

/** Writes `checks()` now and every `intervalMs` (the timer never keeps the process alive); stop() writes the last beat. */
export function startHeartbeat(store: MetaWriter, name: string, checks: () => Record<string, string | null>, intervalMs = HEARTBEAT_MS): { stop(): Promise<void> } {
  const beat = (stopped?: boolean) => {
    const value: ComponentHeartbeat = { time: new Date().toISOString(), intervalMs, checks: checks(), ...(stopped ? { stopped } : {}) };
    // A closed store (or one without meta records): nobody can ask any more.
    return Promise.resolve().then(() => store.setMeta(componentKey(name), value, { persist: false })).catch(() => {});
  };
  void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await beat(true);
    },
  };
}
