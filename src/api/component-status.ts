// componentstatuses (v1, deprecated since 1.19 but still served by 1.32): the health of the control plane, probed
// on every read as kube-apiserver's registry/core/componentstatus does: etcd-0 is convergit's store (a read, then
// a write of whatever is pending, which fails while the data folder cannot be written); scheduler and
// controller-manager are the heartbeats those components keep in the store (model/component-health.ts), read as
// kube-apiserver reads their /healthz. Computed, never stored; not watchable (kube-apiserver's REST has no Watch).
import type { KubeObject } from '../model/object.ts';
import { componentKey, type ComponentHeartbeat } from '../model/component-health.ts';
import type { Store } from '../store/store.ts';

/** The Warning header kube-apiserver sends with every componentstatuses response (rest.WithWarnings / deprecation). */
export const COMPONENT_STATUS_WARNING = '299 - "v1 ComponentStatus is deprecated in v1.19+"';

/** kube-apiserver's probe timeout. */
const PROBE_TIMEOUT_MS = 20_000;

type Probe = { status: 'True' | 'False' | 'Unknown'; message?: string; error?: string };

/** kube-apiserver's order of the names is a goroutine race; here it is fixed. */
export const COMPONENTS = ['scheduler', 'controller-manager', 'etcd-0'] as const;

const within = <T>(p: Promise<T>, what: string) => new Promise<T>((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`${what}: no answer within ${PROBE_TIMEOUT_MS / 1000}s`)), PROBE_TIMEOUT_MS);
  p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
});

/** EtcdServer.DoServerCheck: Healthy "ok", or unhealthy with no message and the error. */
async function probeStore(store: Store): Promise<Probe> {
  try {
    await within((async () => { await store.resourceVersion(); await store.flush(); })(), 'store');
    return { status: 'True', message: 'ok' };
  } catch (e) {
    return { status: 'False', error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * HttpServer.DoServerCheck over a heartbeat: "ok" when fresh and every check passes; a failing check is False with
 * the /healthz body as message; no heartbeat (the probe's connection refused) is Unknown with the error.
 */
async function probeHeartbeat(store: Store, name: string, now = Date.now()): Promise<Probe> {
  const beat = await store.getMeta<ComponentHeartbeat>(componentKey(name), { shared: true });
  if (!beat) return { status: 'Unknown', error: `no heartbeat from the ${name}: it is not running in this serve` };
  if (beat.stopped) return { status: 'Unknown', error: `the ${name} has stopped (at ${beat.time})` };
  const age = now - Date.parse(beat.time);
  // Three missed beats, but never less than kube-apiserver's probe timeout: a busy machine delays timers.
  if (age > Math.max(3 * beat.intervalMs, PROBE_TIMEOUT_MS)) return { status: 'Unknown', error: `no heartbeat from the ${name} for ${Math.round(age / 1000)}s (the last at ${beat.time})` };
  const checks = Object.entries(beat.checks);
  if (checks.every(([, why]) => why === null)) return { status: 'True', message: 'ok' };
  const body = checks.map(([n, why]) => (why === null ? `[+]${n} ok` : `[-]${n} failed: ${why}`)).join('\n');
  return { status: 'False', message: `${body}\nhealthz check failed` };
}

/** One ComponentStatus as kube-apiserver encodes it: no uid, version or creation time; message and error only when set. */
function componentStatus(name: string, p: Probe): KubeObject {
  return {
    kind: 'ComponentStatus', apiVersion: 'v1',
    metadata: { name, creationTimestamp: null as unknown as string },
    conditions: [{ type: 'Healthy', status: p.status, ...(p.message ? { message: p.message } : {}), ...(p.error ? { error: p.error } : {}) }],
  };
}

/** Probes one component, or undefined when there is none of that name. */
export async function probeComponent(store: Store, name: string): Promise<KubeObject | undefined> {
  if (!(COMPONENTS as readonly string[]).includes(name)) return undefined;
  return componentStatus(name, name === 'etcd-0' ? await probeStore(store) : await probeHeartbeat(store, name));
}

/** Every component, probed at once. */
export async function probeComponents(store: Store): Promise<KubeObject[]> {
  return (await Promise.all(COMPONENTS.map((n) => probeComponent(store, n)))) as KubeObject[];
}
