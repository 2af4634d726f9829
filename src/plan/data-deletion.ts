// Deleting data is never a side effect. The plan steps that would delete PersistentVolumeClaims (and with them,
// under a Delete reclaim policy, their volumes' data): a claim pruned from git, a StatefulSet pruned whose
// retention policy deletes its claims (whenDeleted: Delete), a StatefulSet scaled down (or its ordinals moved)
// with whenScaled: Delete. Each must be confirmed by the commit: the annotation
// `convergit.dev/allow-data-deletion: "true"` on the object's last version (the live one for a prune, the
// commit's for an update), or a commit trailer `Convergit-Allow-Data-Deletion: <kind>/<name>` (also
// `<kind>/<namespace>/<name>`, several separated by commas or on several trailer lines, or `all`). Pure.
import type { KubeObject } from '../model/object.ts';
import type { Plan, PlanStep } from './plan.ts';
import { compareText } from '../model/compare-text.ts';

export const ALLOW_DATA_DELETION_ANNOTATION = 'convergit.dev/allow-data-deletion';
export const ALLOW_DATA_DELETION_TRAILER = 'Convergit-Allow-Data-Deletion';

export interface DataDeletion {
  /** The object whose change deletes data (a PersistentVolumeClaim or a StatefulSet). */
  kind: string;
  namespace: string;
  name: string;
  action: 'prune' | 'update';
  /** The claims deleted, by name (in the object's namespace). */
  claims: string[];
  /** One sentence for people: what deletes which claims. */
  reason: string;
  /** How the commit confirms it, if it does. */
  confirmedBy?: 'annotation' | 'trailer';
}

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';

/** The data deletions `plan` would make, with how each is confirmed. `live` holds the live claims; `message` the commit's. */
export function dataDeletions(plan: Pick<Plan, 'steps'>, live: readonly KubeObject[], message = ''): DataDeletion[] {
  const claims = live.filter((o) => o.kind === 'PersistentVolumeClaim');
  const trailer = allowedByTrailer(message);
  const out: DataDeletion[] = [];
  for (const step of plan.steps) {
    const found = deletionOf(step, claims);
    if (!found) continue;
    const last = step.object; // a prune's object is the live one, an update's the commit's
    const confirmedBy = last.metadata.annotations?.[ALLOW_DATA_DELETION_ANNOTATION] === 'true' ? 'annotation'
      : trailerAllows(trailer, step.kind, ns(last), step.name) ? 'trailer' : undefined;
    out.push({ kind: step.kind, namespace: ns(last), name: step.name, action: step.action as DataDeletion['action'], ...found, ...(confirmedBy && { confirmedBy }) });
  }
  return out;
}

function deletionOf(step: PlanStep, claims: readonly KubeObject[]): Pick<DataDeletion, 'claims' | 'reason'> | undefined {
  const o = step.object;
  if (step.kind === 'PersistentVolumeClaim' && step.action === 'prune') {
    return { claims: [o.metadata.name], reason: `PersistentVolumeClaim ${ns(o)}/${o.metadata.name} is pruned: its volume (and, with reclaim policy Delete, its data) goes with it` };
  }
  if (step.kind !== 'StatefulSet') return undefined;
  const setClaims = (set: KubeObject, ordinals?: (n: number) => boolean) => claims.filter((c) => {
    if (ns(c) !== ns(set)) return false;
    for (const t of set.spec?.volumeClaimTemplates ?? []) {
      const m = new RegExp(`^${escape(t.metadata?.name ?? '')}-${escape(set.metadata.name)}-(\\d+)$`).exec(c.metadata.name);
      if (m && (!ordinals || ordinals(Number(m[1])))) return true;
    }
    return false;
  }).map((c) => c.metadata.name).sort(byOrdinal);

  if (step.action === 'prune') {
    if (o.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted !== 'Delete') return undefined;
    const names = setClaims(o);
    return names.length ? { claims: names, reason: `StatefulSet ${ns(o)}/${o.metadata.name} is pruned with persistentVolumeClaimRetentionPolicy.whenDeleted: Delete: its claims go with it` } : undefined;
  }
  if (step.action !== 'update' || o.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return undefined;
  // The object of an update is the desired one; the claims of ordinals it no longer has go with their pods.
  const [start, replicas] = [o.spec?.ordinals?.start ?? 0, o.spec?.replicas ?? 1];
  const names = setClaims(o, (n) => n < start || n >= start + replicas);
  return names.length
    ? { claims: names, reason: `StatefulSet ${ns(o)}/${o.metadata.name} scales to ordinals ${start}..${start + replicas - 1} with persistentVolumeClaimRetentionPolicy.whenScaled: Delete: the claims of the ordinals it drops go with their pods` }
    : undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const byOrdinal = (a: string, b: string) => Number(/\d+$/.exec(a)![0]) - Number(/\d+$/.exec(b)![0]) || compareText(a, b);

/** The objects the commit message's trailers allow to delete data of (`all` for every one). */
export function allowedByTrailer(message: string): Set<string> | 'all' {
  const allowed = new Set<string>();
  const re = new RegExp(`^${ALLOW_DATA_DELETION_TRAILER}:\\s*(.+)$`, 'gim');
  for (const m of message.matchAll(re)) {
    for (const item of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      if (item.toLowerCase() === 'all') return 'all';
      allowed.add(item.toLowerCase());
    }
  }
  return allowed;
}

function trailerAllows(allowed: Set<string> | 'all', kind: string, namespace: string, name: string): boolean {
  if (allowed === 'all') return true;
  const k = kind.toLowerCase();
  return allowed.has(`${k}/${name}`.toLowerCase()) || allowed.has(`${k}/${namespace}/${name}`.toLowerCase());
}

/** Why a commit with unconfirmed data deletions is refused, naming each object and claim and how to confirm; undefined when none. */
export function dataDeletionRefusal(deletions: readonly DataDeletion[]): string | undefined {
  const open = deletions.filter((d) => !d.confirmedBy);
  if (!open.length) return undefined;
  const list = open.map((d) => `${d.kind} ${d.namespace}/${d.name} (deletes PersistentVolumeClaim ${d.claims.join(', ')})`).join('; ');
  return `revision deletes data without confirmation; nothing was applied: ${list}. To confirm, annotate the object's last version `
    + `with ${ALLOW_DATA_DELETION_ANNOTATION}: "true" or add the commit trailer "${ALLOW_DATA_DELETION_TRAILER}: ${open.map((d) => `${d.kind}/${d.name}`).join(', ')}" (or "all")`;
}
