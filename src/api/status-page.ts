// The human page at `/`: revision, sync state, errors with positions, objects and recent history. A table longer than
// PAGE_ROWS is summarised (counts by state, then only what is not well) with pages of the rest at `/?<table>=N`, so
// the page stays small at 10,000 objects and 30,000 pods.
import type { StatusReport } from '../sync/status.ts';
import { formatIssue } from '../model/issue.ts';
import { age } from './age.ts';
import { delayAfter } from '../model/time.ts';
import type { Workloads } from './workloads.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const short = (sha?: string) => (sha ? `<code title="${esc(sha)}">${esc(sha.slice(0, 7))}</code>` : '—');
const COLORS: Record<string, string> = { Synced: '#1a7f37', Applied: '#1a7f37', Complete: '#1a7f37', Running: '#1a7f37', Paused: '#57606a', Healthy: '#1a7f37', Degraded: '#cf222e', Missing: '#9a6700', Suspended: '#57606a', Unknown: '#57606a', CrashLoopBackOff: '#cf222e', Error: '#cf222e', Progressing: '#9a6700', Pending: '#9a6700', OutOfSync: '#9a6700', Failed: '#cf222e' };
const when = (iso?: string) => (iso ? esc(iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')) : '');
/** How long after `from` something happened, as `convergit history` says it, with the time itself on hover. */
const after = (from?: string, to?: string) => (from && to ? `<span class="nw" title="${esc(to)}">${delayAfter(from, to)}</span>` : '');
const badge = (s: string) => `<span class="badge" style="background:${COLORS[s] ?? '#57606a'}">${esc(s)}</span>`;

function table(headers: string[], rows: string[][]): string {
  if (!rows.length) return '<p class="muted">none</p>';
  return `<table><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
}

/** Rows of one table shown at most; a longer one is summarised and paged. */
export const PAGE_ROWS = 200;

interface Paged<T> {
  /** The query parameter of this table's pages (`/?pods=3`). */
  param: string;
  items: T[];
  cells: (t: T) => string[];
  /** The state counted in the summary (a badge's text). */
  state: (t: T) => string;
  /** Well items are left out of the summary's rows. */
  well: (t: T) => boolean;
}

function pagedTable<T>(headers: string[], p: Paged<T>, query: URLSearchParams): string {
  const { items, param } = p;
  const page = Number(query.get(param));
  if (items.length <= PAGE_ROWS && !page) return table(headers, items.map(p.cells));
  const pages = Math.ceil(items.length / PAGE_ROWS);
  const to = (n: number, text: string) => `<a href="?${esc(param)}=${n}">${esc(text)}</a>`;
  if (Number.isInteger(page) && page >= 1 && page <= Math.max(pages, 1)) {
    const nav = [page > 1 ? to(page - 1, '← previous') : '', `page ${page} of ${pages}`, page < pages ? to(page + 1, 'next →') : '', '<a href="/">summary</a>']
      .filter(Boolean).join(' · ');
    return `<p class="muted">${nav}</p>${table(headers, items.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS).map(p.cells))}`;
  }
  const counts = new Map<string, number>();
  const notWell: T[] = [];
  for (const t of items) {
    const s = p.state(t);
    counts.set(s, (counts.get(s) ?? 0) + 1);
    if (!p.well(t)) notWell.push(t);
  }
  const tally = [...counts].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${badge(s)} ${n}`).join(' ');
  const shown = notWell.slice(0, PAGE_ROWS);
  const more = notWell.length > shown.length ? ` (the first ${shown.length} of ${notWell.length})` : '';
  return `<p>${items.length} in all: ${tally} · every one, ${PAGE_ROWS} a page: ${to(1, `page 1 of ${pages}`)}</p>
${notWell.length ? `<p class="muted">Not ready or not healthy${more}:</p>${table(headers, shown.map(p.cells))}` : '<p class="muted">All ready and healthy.</p>'}`;
}

const link = (url: string) => `<a href="${esc(url)}">${esc(url)}</a>`;

function workloadTables(w: Workloads, query: URLSearchParams): string {
  return `<h2>Deployments</h2>
${pagedTable(['Namespace', 'Name', 'Rollout', 'Ready', 'Up-to-date', 'Available', 'Revision', 'Message'], {
    param: 'deployments', items: w.deployments, state: (d) => d.rollout, well: (d) => d.rollout === 'Complete' && d.ready === d.replicas,
    cells: (d) => [esc(d.namespace), esc(d.name), badge(d.rollout), `${d.ready}/${d.replicas}`, String(d.updated), String(d.available), esc(d.revision ?? ''), `<span class="muted">${esc(d.message ?? '')}</span>`],
  }, query)}
${w.statefulSets.length ? `<h2>StatefulSets</h2>
${pagedTable(['Namespace', 'Name', 'Rollout', 'Ready', 'Up-to-date', 'Available', 'Revision', 'Claims'], {
    param: 'statefulsets', items: w.statefulSets, state: (s) => s.rollout, well: (s) => s.rollout === 'Complete' && s.ready === s.replicas,
    cells: (s) => [
      esc(s.namespace), esc(s.name), badge(s.rollout), `${s.ready}/${s.replicas}`, String(s.updated), String(s.available),
      s.currentRevision && s.updateRevision && s.currentRevision !== s.updateRevision ? `${esc(s.currentRevision)} → ${esc(s.updateRevision)}` : esc(s.updateRevision ?? s.currentRevision ?? ''),
      esc(s.claims.map((c) => `${c}-${s.name}-0${s.replicas > 1 ? `…${s.replicas - 1}` : ''}`).join(', ')),
    ],
  }, query)}` : ''}
${w.daemonSets.length ? `<h2>DaemonSets</h2>
${pagedTable(['Namespace', 'Name', 'Rollout', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available'], {
    param: 'daemonsets', items: w.daemonSets, state: (d) => d.rollout, well: (d) => d.rollout === 'Complete' && d.ready === d.desired,
    cells: (d) => [esc(d.namespace), esc(d.name), badge(d.rollout), String(d.desired), String(d.current), String(d.ready), String(d.updated), String(d.available)],
  }, query)}` : ''}
${w.cronJobs.length ? `<h2>CronJobs</h2>
${pagedTable(['Namespace', 'Name', 'Schedule', 'Suspend', 'Active', 'Last schedule', 'Last success'], {
    param: 'cronjobs', items: w.cronJobs, state: (c) => (c.suspend ? 'Suspended' : 'Scheduled'), well: () => true,
    cells: (c) => [esc(c.namespace), esc(c.name), `<code>${esc(c.schedule)}</code>`, c.suspend ? badge('Suspended') : 'False', String(c.active), esc(c.lastSchedule ?? '<none>'), esc(c.lastSuccess ?? '<none>')],
  }, query)}` : ''}
${w.jobs.length ? `<h2>Jobs</h2>
${pagedTable(['Namespace', 'Name', 'Status', 'Completions', 'Duration', 'CronJob'], {
    param: 'jobs', items: w.jobs, state: (j) => j.status, well: (j) => j.status === 'Complete' || j.status === 'Running',
    cells: (j) => [esc(j.namespace), esc(j.name), badge(j.status), esc(j.completions), esc(j.duration), esc(j.cronJob ?? '')],
  }, query)}` : ''}
<h2>Services</h2>
${pagedTable(['Namespace', 'Name', 'Type', 'Cluster IP', 'Ports', 'Open'], {
    param: 'services', items: w.services, state: (s) => s.type, well: (s) => s.type === 'ExternalName' || !!s.clusterIP,
    cells: (s) => [esc(s.namespace), esc(s.name), esc(s.type), esc(s.clusterIP ?? '<pending>'), esc(s.ports), s.urls.map(link).join(' ')],
  }, query)}
${w.ingresses.length ? `<h2>Ingresses</h2>
${pagedTable(['Namespace', 'Name', 'Class', 'Hosts', 'Address'], {
    param: 'ingresses', items: w.ingresses, state: (i) => (i.address ? 'Serving' : 'Pending'), well: (i) => !!i.address,
    cells: (i) => [esc(i.namespace), esc(i.name), esc(i.className || '<default>'), esc(i.hosts), i.address ? esc(i.address) : '<span class="muted">&lt;pending&gt;</span>'],
  }, query)}` : ''}
<h2>Pods</h2>
${pagedTable(['Namespace', 'Name', 'Ready', 'Status', 'Restarts', 'IP', 'Node'], {
    param: 'pods', items: w.pods, state: (p) => p.status, well: (p) => p.status === 'Completed' || (p.status === 'Running' && allReady(p.ready)),
    cells: (p) => [esc(p.namespace), esc(p.name), esc(p.ready), badge(p.status), String(p.restarts), esc(p.ip ?? ''), esc(p.node ?? '')],
  }, query)}`;
}

/** `2/2` ready, as kubectl's READY column. */
const allReady = (ready: string) => { const [a, b] = ready.split('/'); return a === b; };

export function renderStatusPage(s: StatusReport | undefined, w?: Workloads, query = new URLSearchParams()): string {
  const body = !s
    ? '<p>Starting: no revision read yet.</p>'
    : `
<table class="facts">
<tr><th>Sync</th><td>${badge(s.sync)} ${esc(s.message)} <span class="muted">(${esc(s.state)} for ${esc(age(s.stateSince))})</span></td></tr>
${s.health ? `<tr><th>Health</th><td>${badge(s.health.status)} ${esc(s.health.message)} <span class="muted">(${s.health.revision ? `revision ${esc(s.health.revision.slice(0, 7))}, ` : ''}for ${esc(age(s.health.since))})</span></td></tr>` : ''}
</table>
${s.health?.reasons.length ? `<ol class="reasons">${s.health.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ol>` : ''}
<table class="facts">
<tr><th>Repository</th><td><code>${esc(s.repository)}</code> branch <code>${esc(s.branch)}</code>${s.path ? ` path <code>${esc(s.path)}</code>` : ''}</td></tr>
<tr><th>Head</th><td>${short(s.head)}</td></tr>
<tr><th>Last applied</th><td>${short(s.lastAppliedRevision)}</td></tr>
<tr><th>Last attempted</th><td>${short(s.lastAttemptedRevision)}</td></tr>
${s.nextRetryAt ? `<tr><th>Next retry</th><td>${esc(s.nextRetryAt)}</td></tr>` : ''}
</table>
${s.errors.length || s.error ? `<h2>Errors</h2>${s.errors.length ? `<pre class="err">${s.errors.map((i) => esc(formatIssue(i))).join('\n')}</pre>` : `<pre class="err">${esc(s.error)}</pre>`}` : ''}
${s.warnings.length ? `<h2>Warnings</h2><pre class="warn">${s.warnings.map((i) => esc(formatIssue(i))).join('\n')}</pre>` : ''}
${s.portConflicts?.length ? `<h2>Ports not opened</h2><pre class="warn">${s.portConflicts.map((c) => esc(c.message)).join('\n')}</pre>` : ''}
${w ? workloadTables(w, query) : ''}
<h2>Objects</h2>
${pagedTable(['Kind', 'Namespace', 'Name', 'Sync', 'Health', 'Revision'], {
      param: 'objects', items: s.objects, state: (o) => (o.status === 'Synced' ? o.health ?? 'Unknown' : o.status), well: (o) => o.status === 'Synced' && o.health === 'Healthy',
      cells: (o) => [
        esc(o.kind) + (o.mode === 'kept' ? ' <span class="muted">(kept)</span>' : ''), esc(o.namespace ?? ''), esc(o.name), badge(o.status),
        o.health ? badge(o.health) + (o.health !== 'Healthy' && o.healthMessage ? ` <span class="muted">${esc(o.healthMessage)}</span>` : '') : '', short(o.revision),
      ],
    }, query)}
<h2>History</h2>
${table(['Revision', 'Message', 'Author', 'Committed', 'Detected', 'Applied', 'Healthy', 'Result', 'Health', 'Changes'], s.history.map((h) => [
      short(h.sha), esc(h.message), esc(h.author), when(h.commitTime), after(h.commitTime, h.detectedAt), after(h.detectedAt, h.appliedAt),
      h.healthyAt ? after(h.appliedAt, h.healthyAt) : h.degradedAt ? `degraded ${after(h.appliedAt, h.degradedAt)}` : '',
      badge(h.result) + (h.error ? ` <span class="muted">${esc(h.error)}</span>` : ''),
      h.health ? badge(h.health) + (h.health !== 'Healthy' && h.healthMessage ? ` <span class="muted">${esc(h.healthMessage)}</span>` : '') : '',
      `<span class="nw" title="created / updated / pruned">+${h.created} ~${h.updated} −${h.pruned}</span>`,
    ]))}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>convergit status</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1f2328}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}th,.nw{white-space:nowrap}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #d0d7de;vertical-align:top}
table.facts{width:auto}.muted{color:#57606a}.badge{color:#fff;border-radius:1em;padding:.1em .7em;font-size:.9em}
pre{padding:.8em;border-radius:6px;overflow:auto;white-space:pre-wrap}.err{background:#ffebe9}.warn{background:#fff8c5}
</style></head>
<body><h1>convergit</h1>${body}
<p class="muted">Read-only: change the system by committing to the repository. JSON at <a href="/status">/status</a>.</p>
</body></html>`;
}
