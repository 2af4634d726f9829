// A revision's health: the worst of its objects' (Argo CD's order) and, while it is not Healthy, the chain of
// reasons, worst first. Also the health of an object git wants that the live state does not have.
import { displayName, parseKey } from '../model/key.ts';
import type { HealthStatus, ObjectHealth } from './types.ts';

/** Argo CD's healthOrder, most healthy first. */
export const HEALTH_ORDER: readonly HealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

const rank = (s: HealthStatus) => HEALTH_ORDER.indexOf(s);

/** Argo CD's IsWorse: `next` is a worse condition than `current`. */
export const isWorse = (current: HealthStatus, next: HealthStatus) => rank(next) > rank(current);

export interface RevisionHealth {
  status: HealthStatus;
  /** The first reason, or `all N objects healthy`. */
  message: string;
  /**
   * For a revision that is not Healthy: each non-Healthy object's message, worst first, naming the object, each
   * followed by its causes (the pod a rollout waits on, with the pod's own reason).
   */
  reasons: string[];
}

export interface KeyedHealth {
  /** objectKey: `apiVersion/kind/namespace/name`. */
  key: string;
  health: ObjectHealth;
}

/** `Kind namespace/name` from an objectKey. */
const nameOf = (key: string) => {
  const { kind, namespace, name } = parseKey(key);
  return { kind, name, display: displayName({ kind, metadata: { name, namespace } }) };
};

/** The message, prefixed by the object's `Kind namespace/name` unless it already starts by naming it. */
function withName(key: string, message: string): string {
  const { kind, name, display } = nameOf(key);
  const names = [display, `${kind} ${name}`].some((n) => message === n || message.startsWith(`${n}:`) || message.startsWith(`${n} `));
  if (names) return message;
  return message ? `${display}: ${message}` : display;
}

/**
 * withName of each verdict as last worked out: an assessment names every object that is not Healthy (3,333 at once in
 * a 10,000-object serve's first pass, tens of assessments), and most verdicts are those the last one named.
 */
const named = new WeakMap<ObjectHealth, { key: string; message: string; text: string }>();
function namedMessage({ key, health }: KeyedHealth): string {
  const hit = named.get(health);
  if (hit && hit.key === key && hit.message === health.message) return hit.text;
  const text = withName(key, health.message);
  named.set(health, { key, message: health.message, text });
  return text;
}

export function revisionHealth(items: readonly KeyedHealth[]): RevisionHealth {
  return revisionHealthOf(items.filter((i) => i.health.status !== 'Healthy'), items.length);
}

/**
 * revisionHealth of `total` objects, given only those that are not Healthy (in apply order): what an assessment
 * that keeps its verdicts computes without going over the healthy thousands.
 */
export function revisionHealthOf(notHealthy: readonly KeyedHealth[], total: number): RevisionHealth {
  const status = notHealthy.reduce<HealthStatus>((worst, i) => (isWorse(worst, i.health.status) ? i.health.status : worst), 'Healthy');
  if (status === 'Healthy') {
    return { status, message: total === 0 ? 'no objects' : `all ${total} object${total === 1 ? '' : 's'} healthy`, reasons: [] };
  }
  // Array.prototype.sort is stable: equally bad objects keep the order they were given in (apply order).
  const reasons = [...notHealthy]
    .sort((a, b) => rank(b.health.status) - rank(a.health.status))
    .flatMap((i) => [namedMessage(i), ...(i.health.causes ?? [])]);
  return { status, message: reasons[0], reasons };
}

/** The health of an object git wants and the live state lacks. */
export function missing(key: string): ObjectHealth {
  return { status: 'Missing', message: `${nameOf(key).display} is missing` };
}
