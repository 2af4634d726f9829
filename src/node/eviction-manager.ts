// The kubelet's eviction manager, the part that judges each pod against its own limits (localStorageEviction's
// emptyDirLimitEviction): every monitoring period (10 s) it measures the pods' size-limited emptyDir volumes and
// evicts a pod one of them has outgrown: containers killed at once (grace 0), the pod Failed with reason Evicted and
// the message below, a Warning event; its controller replaces it. A memory-backed emptyDir is a tmpfs of the
// limit's size besides (volumes/pod-volumes.ts), so writes past it fail first.
import type { KubeObject } from '../model/object.ts';
import { parseQuantity } from '../model/quantity.ts';

/** The reason of an evicted pod and of its event. */
export const EVICTED = 'Evicted';

/** Upstream's emptyDirMessageFmt (with its trailing space) for the first emptyDir whose usage exceeds its sizeLimit. */
export function emptyDirLimitMessage(pod: KubeObject, usage: ReadonlyMap<string, number>): string | undefined {
  for (const vol of (pod.spec?.volumes ?? []) as { name: string; emptyDir?: { sizeLimit?: string | number } }[]) {
    const limit = vol.emptyDir?.sizeLimit;
    const used = usage.get(vol.name);
    if (limit === undefined || used === undefined) continue;
    const bytes = parseQuantity(limit);
    if (bytes > 0 && used > bytes) return `Usage of EmptyDir volume "${vol.name}" exceeds the limit "${limit}". `;
  }
  return undefined;
}

export interface EvictionManagerOptions {
  /** The monitoring period (the kubelet's 10 s). */
  intervalMs: number;
  /** The pods running on the node now. */
  pods: () => KubeObject[];
  /** Bytes used by each size-limited emptyDir of a pod. */
  usage: (pod: KubeObject) => Promise<Map<string, number>>;
  evict: (pod: KubeObject, message: string) => void;
  log: (m: string) => void;
}

export function startEvictionManager(opts: EvictionManagerOptions): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const limited = (p: KubeObject) => (p.spec?.volumes ?? []).some((v: { emptyDir?: { sizeLimit?: unknown } }) => v.emptyDir?.sizeLimit !== undefined);
  const pass = async () => {
    for (const pod of opts.pods().filter(limited)) {
      if (stopped) return;
      try {
        const message = emptyDirLimitMessage(pod, await opts.usage(pod));
        if (message && !stopped) {
          opts.log(`eviction manager: evicting pod ${pod.metadata.namespace}/${pod.metadata.name}: ${message.trim()}`);
          opts.evict(pod, message);
        }
      } catch (e) {
        opts.log(`eviction manager: pod ${pod.metadata.namespace}/${pod.metadata.name}: ${e instanceof Error ? e.message : e}`);
      }
    }
  };
  // One pass after another (never two at once, however long a walk takes), as the kubelet's synchronize loop.
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => void pass().finally(next), opts.intervalMs);
    timer.unref();
  };
  next();
  return { stop: () => { stopped = true; clearTimeout(timer); } };
}
