// The plan report as a pull-request comment (GitHub-flavoured markdown): verdict first, long diffs collapsible.
import { describeFiles } from './image-changes.ts';
import { formatIssue } from '../model/issue.ts';
import type { Change, PlanReport, ReviewWarning } from './report.ts';
import {
  deletionLines, RESOURCES, againstText, filesCount, messageTitle, newWarnings, objectText, placeText, plural, preexistingWarnings, refText, summaryLine,
  unschedulablePods, usageText, quantityText, verdictOf, warningBody,
} from './render-parts.ts';

/** Diffs longer than this are folded in `<details>`; shorter ones read better inline. */
export const COLLAPSE_OVER_LINES = 15;
/** One object's diff is cut here, so that one long object does not crowd out the others. */
export const MAX_DIFF_LINES = 300;
/** GitHub refuses a longer comment; counted in UTF-8 bytes, which are never fewer than its characters. */
export const MAX_COMMENT_SIZE = 65_536;

const HEADINGS = {
  ready: '✅ convergit plan: ready to merge',
  warnings: '⚠️ convergit plan: ready, review the warnings',
  blocked: '❌ convergit plan: do not merge',
};

export function renderMarkdown(r: PlanReport): string {
  const title = messageTitle(r.ref);
  const intro = `${refText(r.ref, code)}${title ? ` "${text(title)}"` : ''} compared with ${againstText(r.against, name)}.`;
  const render = (diffBudget: number) => [
    [`### ${HEADINGS[verdictOf(r)]}`, '', `**${text(summaryLine(r))}**`, '', intro],
    errors(r), deletions(r), changes(r, diffBudget), rollouts(r), scheduling(r), warnings(r),
  ].filter((s) => s.length).map((s) => s.join('\n')).join('\n\n') + '\n';
  const full = render(Infinity);
  if (size(full) <= MAX_COMMENT_SIZE) return full;
  // Too long to post: the diffs get what the rest leaves, in apply order; the rest of the plan is always shown.
  return render(MAX_COMMENT_SIZE - size(render(0)));
}

const size = (s: string) => Buffer.byteLength(s);

/** In a `diff` block, whose `-` lines GitHub shows in red: data does not come back. */
function deletions(r: PlanReport): string[] {
  const lines = deletionLines(r);
  if (!lines.length) return [];
  return [`#### 🟥 Data deletion (${lines.length})`, '', ...fenced('diff', lines.map((l) => `- ${l}`))];
}

function errors(r: PlanReport): string[] {
  if (!r.errors.length) return [];
  return [`#### ❌ Errors (${r.errors.length})`, '', ...r.errors.map((e) => {
    // formatIssue's own words after the place, so the line matches what `serve` and `validate` print.
    const place = `${e.file}:${e.line}:${e.column}`;
    return `- ${code(place)} ${text(formatIssue(e).slice(place.length + 2))}`;
  })];
}

/** The table of every change, then each one's diff while they fit in `diffBudget` (bytes), then how many did not. */
function changes(r: PlanReport, diffBudget: number): string[] {
  if (!r.changes.length) return r.valid ? ['#### Changes', '', 'No changes: nothing would be created, changed or pruned.'] : [];
  const rows = r.changes.map((c): Cell[] => [c.action, c.kind, objectName(c), { code: placeText(c) ?? '' }]);
  const out = [`#### Changes (${r.changes.length}), in apply order`, '', ...table(['Action', 'Kind', 'Name', 'File'], rows)];
  let used = 0, left = 0;
  for (const c of r.changes) {
    const details = [...(c.diff.length ? ['', ...diffBlock(c)] : []), ...(c.images ?? []).flatMap((img) => [
      '', `Code of container ${code(img.container)} (${code(`git:${img.dir}`)}), ${filesCount(img.files.length)} changed:`, '',
      ...describeFiles(img).map((l) => `- ${text(l)}`),
    ])];
    if (!details.length) continue;
    const cost = size(details.join('\n')) + 1;
    if (left || used + cost > diffBudget) { left++; continue; }
    used += cost;
    out.push(...details);
  }
  if (left) {
    out.push('', `… the diffs of ${left} more object${left === 1 ? '' : 's'} are left out: a GitHub comment holds at most ` +
      `${MAX_COMMENT_SIZE.toLocaleString('en-US')} characters. Run \`convergit plan\` with \`--output text\` to see them all.`);
  }
  return out;
}

function diffBlock(c: Change): string[] {
  const shown = c.diff.slice(0, MAX_DIFF_LINES);
  const cut = c.diff.length - shown.length;
  const body = [...fenced('diff', shown), ...(cut ? ['', `… ${cut} more lines: run \`convergit plan\` with \`--output text\` to see them all.`] : [])];
  const label = `${c.action} ${objectText(c)}`;
  if (c.diff.length <= COLLAPSE_OVER_LINES) return [`**${text(label)}**`, '', ...body];
  // GitHub renders markdown inside <details> only after a blank line; <summary> takes plain text.
  return [`<details><summary>${html(label)} (${c.diff.length} lines)</summary>`, '', ...body, '', '</details>'];
}

function rollouts(r: PlanReport): string[] {
  if (!r.rollouts.length) return [];
  // The summary already says the strategy, its surge and unavailability, and which ReplicaSet a rollback reuses.
  const rows = r.rollouts.map((w) => [
    objectText(w), w.action, `${w.replicas.before} → ${w.replicas.after}`, `+${w.podsCreated} / −${w.podsDeleted}`, w.summary,
  ]);
  return ['#### Rollout impact', '', ...table(['Workload', 'Action', 'Replicas', 'Pods started / stopped', 'Impact'], rows)];
}

function scheduling(r: PlanReport): string[] {
  const s = r.scheduling;
  if (!s.checked) return r.valid ? ['#### Scheduling', '', `Not checked${s.reason ? `: ${text(s.reason.replace(/\.$/, ''))}` : ''}.`] : [];
  const out = [`#### Scheduling (${s.nodes} node${s.nodes === 1 ? '' : 's'})`, ''];
  if (s.unschedulable.length) {
    const n = unschedulablePods(r);
    out.push(`❌ **${n} new pod${n === 1 ? '' : 's'} would not fit on any node:**`, '');
    for (const u of s.unschedulable) out.push(`- ${text(objectText(u))}: ${u.pods} of ${u.of}: ${text(u.message)}`);
    out.push('');
  }
  const rows = RESOURCES.map((name) => {
    const use = s.resources[name];
    return [name, usageText(name, use.requestedBefore, use), usageText(name, use.requestedAfter, use), quantityText(name, use.allocatable)];
  });
  return [...out, ...table(['Resource', 'Requested before', 'Requested after', 'Allocatable'], rows, ['---', '--:', '--:', '--:'])];
}

/** The warnings the change brings, then the ones already there, folded: those are not this change's to answer for. */
function warnings(r: PlanReport): string[] {
  const [fresh, old] = [newWarnings(r), preexistingWarnings(r)];
  const out = fresh.length ? [`#### ⚠️ Warnings (${fresh.length})`, '', ...fresh.map(warningItem)] : [];
  if (old.length) {
    // As the long diffs: markdown inside <details> needs a blank line after <summary>.
    out.push(...(out.length ? [''] : []), `<details><summary>${plural(old.length, 'warning')} already present</summary>`, '', ...old.map(warningItem), '', '</details>');
  }
  return out;
}

function warningItem(w: ReviewWarning): string {
  const place = placeText(w);
  return `- ${place ? `${code(place)} ` : ''}${text(warningBody(w))}`;
}

// ---- Markdown helpers ---------------------------------------------------------------------------------------

const objectName = (o: { namespace?: string; name: string }) => `${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

/** HTML's special characters, for text inside tags such as `<summary>`. */
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Prose that must not turn into markup: HTML tags, emphasis, links, code or table cells. */
const text = (s: string) => html(s).replace(/[\\`*_[\]|~]/g, '\\$&');

/** A name as code (a ref, a URL, a folder), unless it is words (`merge base with main`). */
const name = (s: string) => (/\s/.test(s) ? text(s) : code(s));

/** A code span that survives backticks in its content. */
function code(s: string): string {
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A fenced block longer than any backtick run inside it (a ConfigMap may hold markdown). */
function fenced(lang: string, lines: string[]): string[] {
  const longest = Math.max(2, ...lines.flatMap((l) => l.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, ...lines, fence];
}

/** A table cell: prose (escaped here) or a code span. */
type Cell = string | { code: string };

/**
 * A GitHub table. A `|` splits a cell even inside a code span, and a line break ends the row: both escaped; prose
 * also gets `<` and markdown characters escaped (a code span shows `<` as it is).
 */
function table(head: string[], rows: Cell[][], align: string[] = head.map(() => '---')): string[] {
  const cell = (c: Cell) =>
    typeof c === 'string' ? text(c.replace(/\r?\n/g, ' ')) : c.code ? code(c.code.replace(/\r?\n/g, ' ')).replace(/\|/g, '\\|') : '';
  const line = (cells: Cell[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), `|${align.join('|')}|`, ...rows.map(line)];
}
