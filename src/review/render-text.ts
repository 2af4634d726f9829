// The plan report for a terminal or a CI log: plain text, no colors, sections in the issue's order, a verdict last.
import { describeFiles } from './image-changes.ts';
import { formatIssue } from '../model/issue.ts';
import type { PlanReport } from './report.ts';
import {
  deletionLines, RESOURCES, againstText, filesCount, messageTitle, newWarnings, objectText, placeText, plural, preexistingWarnings, refText, summaryLine,
  usageText, quantityText, warningBody,
} from './render-parts.ts';
import type { ReviewWarning } from './report.ts';

export interface TextOptions {
  /** ANSI colours (a terminal): data deletions in red. */
  color?: boolean;
}

const RED = (s: string) => `\x1b[1;31m${s}\x1b[0m`;

export function renderText(r: PlanReport, opts: TextOptions = {}): string {
  const title = messageTitle(r.ref);
  const header = `Plan for ${refText(r.ref)}${title ? ` "${title}"` : ''} compared with ${againstText(r.against)}.`;
  const sections = [[header], errors(r), changes(r), deletions(r, opts.color ? RED : (x) => x), rollouts(r), scheduling(r), warnings(r), [summaryLine(r)]];
  return sections.filter((s) => s.length).map((s) => s.join('\n')).join('\n\n') + '\n';
}

function errors(r: PlanReport): string[] {
  if (!r.errors.length) return [];
  return [`Errors (${r.errors.length}):`, ...r.errors.map((e) => `  ${formatIssue(e)}`)];
}

function changes(r: PlanReport): string[] {
  if (!r.changes.length) return r.valid ? ['No changes: nothing would be created, changed or pruned.'] : [];
  const out = [`Changes (${r.changes.length}), in apply order:`];
  r.changes.forEach((c, i) => {
    if (i > 0 && (c.diff.length || r.changes[i - 1].diff.length)) out.push('');
    const place = placeText(c);
    out.push(`  ${c.action} ${objectText(c)}${place ? ` (${place})` : ''}`);
    for (const line of c.diff) out.push(line ? `    ${line}` : '');
    for (const img of c.images ?? []) {
      out.push(`    code of container ${img.container} (git:${img.dir}), ${filesCount(img.files.length)} changed:`, ...describeFiles(img).map((l) => `      ${l}`));
    }
  });
  return out;
}

/** Every claim a change deletes, apart from the changes and in red on a terminal: data does not come back. */
function deletions(r: PlanReport, red: (s: string) => string): string[] {
  const lines = deletionLines(r);
  if (!lines.length) return [];
  return [red(`DATA DELETION (${lines.length}):`), ...lines.map((l) => red(`  ${l}`))];
}

function rollouts(r: PlanReport): string[] {
  if (!r.rollouts.length) return [];
  return ['Rollout impact:', ...r.rollouts.map((w) => {
    const reuse = w.reuses && !w.summary.includes(w.reuses.replicaSet)
      ? `; rolls back to ReplicaSet ${w.reuses.replicaSet}${w.reuses.revision ? ` (revision ${w.reuses.revision})` : ''}` : '';
    return `  ${objectText(w)}: ${w.summary}${reuse}`;
  })];
}

function scheduling(r: PlanReport): string[] {
  const s = r.scheduling;
  if (!s.checked) return r.valid ? [`Scheduling: not checked${s.reason ? `: ${s.reason.replace(/\.$/, '')}` : ''}.`] : [];
  const out = [`Scheduling (${s.nodes} node${s.nodes === 1 ? '' : 's'}):`];
  for (const u of s.unschedulable) out.push(`  ${objectText(u)}: ${u.pods} of ${u.of} new pods would not fit on any node: ${u.message}`);
  if (s.unschedulable.length) out.push('');
  const rows = [['RESOURCE', 'REQUESTED BEFORE', 'REQUESTED AFTER', 'ALLOCATABLE']];
  for (const name of RESOURCES) {
    const use = s.resources[name];
    rows.push([name, usageText(name, use.requestedBefore, use), usageText(name, use.requestedAfter, use), quantityText(name, use.allocatable)]);
  }
  return [...out, ...table(rows).map((l) => `  ${l}`)];
}

/** The warnings the change brings, then the ones already there, apart: those are not this change's to answer for. */
function warnings(r: PlanReport): string[] {
  const [fresh, old] = [newWarnings(r), preexistingWarnings(r)];
  return [
    ...(fresh.length ? [`Warnings (${fresh.length}):`, ...fresh.map(warningLine)] : []),
    ...(old.length ? [...(fresh.length ? [''] : []), `${plural(old.length, 'warning')} already present before this change:`, ...old.map(warningLine)] : []),
  ];
}

function warningLine(w: ReviewWarning): string {
  const place = placeText(w);
  return `  ${place ? `${place}: ` : ''}${warningBody(w)}`;
}

/** Columns padded to their widest cell, three spaces apart, as kubectl prints tables. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('   '));
}
