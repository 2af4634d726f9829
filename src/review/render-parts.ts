// Pieces the text and markdown plan renderers share: the verdict, the summary line, names, places and human units.
import type { Against, PlanReport, ResourceUse, ReviewWarning } from './report.ts';

export type Verdict = 'ready' | 'warnings' | 'blocked';

/** A reviewer must not merge an invalid or unschedulable revision; warnings the change brings ask for a look. */
export function verdictOf(r: PlanReport): Verdict {
  if (!r.valid || !r.schedulable || unconfirmed(r).length) return 'blocked';
  return newWarnings(r).length ? 'warnings' : 'ready';
}

/** The warnings this change brings, and those that were there before it (shown after them, folded). */
export const newWarnings = (r: PlanReport) => r.warnings.filter((w) => !w.preexisting);
export const preexistingWarnings = (r: PlanReport) => r.warnings.filter((w) => w.preexisting);

/** Data deletions the commit does not confirm (serve refuses the revision for them). */
export const unconfirmed = (r: PlanReport) => (r.dataDeletions ?? []).filter((d) => !d.confirmedBy);

/** `PersistentVolumeClaim data-db-2 deleted (StatefulSet shop/db: …); confirmed by the commit trailer` */
export function deletionLines(r: PlanReport): string[] {
  return (r.dataDeletions ?? []).map((d) => `${d.reason}: deletes PersistentVolumeClaim ${d.claims.join(', ')}; `
    + (d.confirmedBy ? `confirmed by the ${d.confirmedBy === 'trailer' ? 'commit trailer' : 'annotation'}` : 'NOT confirmed: serve refuses this revision'));
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Pods that fit on no node, over every workload. */
export const unschedulablePods = (r: PlanReport) => r.scheduling.unschedulable.reduce((n, u) => n + u.pods, 0);

/**
 * One line, Terraform's plan summary as the model: `Plan: 1 to create, 2 to change, 0 to prune. Valid, schedulable.`,
 * `No changes. Valid, schedulable, 1 warning.`, `Invalid: 2 errors. Do not merge.`,
 * `Plan: 0 to create, 1 to change, 0 to prune. Unschedulable: 2 pods would not fit on any node. Do not merge.`
 * Warnings counted are the ones the change brings.
 */
export function summaryLine(r: PlanReport): string {
  const count = newWarnings(r).length;
  const warnings = count ? `, ${plural(count, 'warning')}` : '';
  if (!r.valid) return `Invalid: ${plural(r.errors.length, 'error')}${warnings}. Do not merge.`;
  const { create, update, prune } = r.summary;
  const plan = r.changed ? `Plan: ${create} to create, ${update} to change, ${prune} to prune.` : 'No changes.';
  if (!r.schedulable) {
    const more = count ? ` ${plural(count, 'warning')}.` : '';
    return `${plan} Unschedulable: ${plural(unschedulablePods(r), 'pod')} would not fit on any node.${more} Do not merge.`;
  }
  const open = unconfirmed(r);
  if (open.length) return `${plan} Deletes data without confirmation: ${open.map((d) => `${d.kind} ${d.name}`).join(', ')}. Do not merge.`;
  const scheduling = r.scheduling.checked ? 'Valid, schedulable' : 'Valid, scheduling not checked';
  return `${plan} ${scheduling}${warnings}.`;
}

/** Git's abbreviation: enough to find the commit, short enough to read. */
const shortSha = (sha: string) => (/^[0-9a-f]{40,64}$/.test(sha) ? sha.slice(0, 7) : sha);

/** The revision: `feature (1a2b3c4)`, the sha alone when that is what was asked for. */
export function refText(ref: PlanReport['ref'], code: (s: string) => string = (s) => s): string {
  if (!ref.sha) return code(ref.name);
  const isSha = /^[0-9a-f]{4,}$/.test(ref.name) && ref.sha.startsWith(ref.name);
  return isSha ? code(shortSha(ref.sha)) : `${code(ref.name)} (${code(shortSha(ref.sha))})`;
}

/** The first line of the commit message, if any. */
export const messageTitle = (ref: PlanReport['ref']) => ref.message?.split('\n')[0].trim() || undefined;

/**
 * What the revision is compared with: `the live state of http://127.0.0.1:7480 (revision 1a2b3c4)`,
 * `the desired state at main (1a2b3c4)`.
 */
export function againstText(a: Against, code: (s: string) => string = (s) => s): string {
  const at = a.sha ? ` (${a.source === 'base' ? '' : 'revision '}${code(shortSha(a.sha))})` : '';
  switch (a.source) {
    case 'server': return `the live state of ${code(a.name)}${at}`;
    case 'data-dir': return `the live state in data folder ${code(a.name)}${at}`;
    case 'base': return `the desired state at ${code(a.name)}${at}`;
  }
}

/** `Deployment shop/web`, or `Namespace shop` for a cluster-scoped object: the kind, then what kubectl names it. */
export const objectText = (o: { kind: string; namespace?: string; name: string }) =>
  `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

/** `file:line:column`, as much of it as is known. */
export function placeText(p: { file?: string; line?: number; column?: number }): string | undefined {
  if (!p.file) return undefined;
  return p.file + (p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : '');
}

/** The issue format (`kind/name: field: message`) after the place, with the warning's code at the end. */
export function warningBody(w: ReviewWarning): string {
  const obj = w.kind ? `${w.kind}/${w.name ?? '?'}` : '-';
  return `${obj}: ${w.field || '-'}: ${w.message} [${w.code}]`;
}

// ---- Human units --------------------------------------------------------------------------------------------

const trimmed = (n: number, digits: number) => String(Number(n.toFixed(digits)));

/** Millicores as Kubernetes users write cpu: `250m`, `1`, `1.5`. */
export function cpuText(millicores: number): string {
  if (millicores === 0) return '0';
  // Kubernetes rounds cpu up to whole millicores.
  const m = Math.ceil(millicores);
  return m < 1000 ? `${m}m` : trimmed(m / 1000, 2);
}

const BINARY = [['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const;

/** Bytes with the largest binary suffix that fits, one decimal at most: `512Mi`, `1.2Gi`. */
export function memoryText(bytes: number): string {
  for (const [suffix, f] of BINARY) if (bytes >= f) return `${trimmed(bytes / f, 1)}${suffix}`;
  return String(Math.round(bytes));
}

export type ResourceName = 'cpu' | 'memory' | 'pods';

export const quantityText = (resource: ResourceName, n: number) =>
  resource === 'cpu' ? cpuText(n) : resource === 'memory' ? memoryText(n) : String(n);

/** `1.5 (37%)`: the share of allocatable, truncated as `kubectl describe node` does. */
export function usageText(resource: ResourceName, requested: number, use: ResourceUse): string {
  const share = use.allocatable > 0 ? ` (${Math.floor((requested / use.allocatable) * 100)}%)` : '';
  return `${quantityText(resource, requested)}${share}`;
}

export const RESOURCES: ResourceName[] = ['cpu', 'memory', 'pods'];

/** `1 file`, `3 files`. */
export const filesCount = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
