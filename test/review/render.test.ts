import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PlanReport } from '../../src/review/report.ts';
import { renderReport } from '../../src/review/render.ts';
import { renderText } from '../../src/review/render-text.ts';
import { renderMarkdown, COLLAPSE_OVER_LINES, MAX_COMMENT_SIZE, MAX_DIFF_LINES } from '../../src/review/render-markdown.ts';
import { renderJson } from '../../src/review/render-json.ts';
import { cpuText, memoryText } from '../../src/review/render-parts.ts';

const SHA = '1a2b3c4d5e6f70818283848586878889aabbccdd';
const LIVE = '5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80';
const Mi = 2 ** 20;
const Gi = 2 ** 30;

/** A valid report with every section: changes (one long diff), a rollout, unschedulable pods, warnings. */
function fullReport(): PlanReport {
  const longDiff = Array.from({ length: COLLAPSE_OVER_LINES + 5 }, (_, i) => `+   key${i}: value${i}`);
  return {
    apiVersion: 'convergit.dev/v1',
    kind: 'PlanReport',
    ref: { name: 'feature', sha: SHA, message: 'web: bigger banner\n\nLonger body.' },
    against: { source: 'server', name: 'http://127.0.0.1:7480', sha: LIVE },
    valid: true,
    schedulable: false,
    changed: true,
    errors: [],
    warnings: [
      { code: 'SelectorMatchesNoPods', kind: 'Service', namespace: 'shop', name: 'web', file: 'apps/web.yaml', line: 30, column: 3, field: 'spec.selector', message: 'matches no pod template: app=<web|api>' },
      { code: 'LatestImage', kind: 'Deployment', namespace: 'shop', name: 'big', message: 'image busybox:latest is not pinned' },
    ],
    summary: { create: 1, update: 1, prune: 1, unchanged: 4 },
    changes: [
      { action: 'create', kind: 'ConfigMap', namespace: 'shop', name: 'big-config', file: 'apps/big.yaml', line: 1, diff: longDiff },
      {
        action: 'update', kind: 'Deployment', namespace: 'shop', name: 'web', file: 'apps/web.yaml', line: 1,
        diff: ['  spec:', '-   replicas: 3', '+   replicas: 5'],
        patch: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
      },
      { action: 'prune', kind: 'Service', namespace: 'shop', name: 'old|svc', diff: ['- apiVersion: v1', '- kind: Service'] },
    ],
    rollouts: [{
      kind: 'Deployment', namespace: 'shop', name: 'web', action: 'scale', replicas: { before: 3, after: 5 }, podsCreated: 2, podsDeleted: 0,
      strategy: 'RollingUpdate', maxSurge: 2, maxUnavailable: 1, summary: 'scales 3 → 5 pods, no replacement',
    }],
    scheduling: {
      checked: true,
      nodes: 2,
      unschedulable: [{ kind: 'Deployment', namespace: 'shop', name: 'big', pods: 2, of: 3, message: '0/2 nodes are available: 2 Insufficient memory.' }],
      resources: {
        cpu: { allocatable: 4000, requestedBefore: 1500, requestedAfter: 2250 },
        memory: { allocatable: 8 * Gi, requestedBefore: 512 * Mi, requestedAfter: 1.2 * Gi },
        pods: { allocatable: 220, requestedBefore: 3, requestedAfter: 6 },
      },
    },
    dataDeletions: [],
  };
}

function invalidReport(): PlanReport {
  return {
    ...fullReport(),
    valid: false, schedulable: true, changed: false,
    errors: [
      { severity: 'error', file: 'apps/web.yaml', line: 12, column: 9, kind: 'Deployment', name: 'web', field: 'spec.replicas', message: 'must be integer' },
      { severity: 'error', file: 'apps/web.yaml', line: 20, column: 5, kind: 'Deployment', name: 'web', field: 'spec.template.spec.containers[0].imagePullPolicy', message: 'must be one of: Always, IfNotPresent, Never' },
    ],
    warnings: [],
    summary: { create: 0, update: 0, prune: 0, unchanged: 0 },
    changes: [], rollouts: [],
    scheduling: { ...fullReport().scheduling, checked: false, reason: 'the revision is invalid', nodes: 0, unschedulable: [] },
  };
}

/** Valid, nothing to do, compared with a base revision (no nodes known). */
function unchangedReport(): PlanReport {
  return {
    ...fullReport(),
    against: { source: 'base', name: 'main', sha: LIVE },
    schedulable: true, changed: false, warnings: [],
    summary: { create: 0, update: 0, prune: 0, unchanged: 7 },
    changes: [], rollouts: [],
    scheduling: { ...fullReport().scheduling, checked: false, reason: 'compared with a base revision: no nodes to schedule on.', nodes: 0, unschedulable: [] },
  };
}

const section = (out: string, heading: string) => {
  const start = out.indexOf(heading);
  assert.ok(start >= 0, `no section ${heading}`);
  const end = out.indexOf('\n\n', start);
  return out.slice(start, end < 0 ? undefined : end);
};

// ---- text ---------------------------------------------------------------------------------------------------

test('text: header, sections in the issue\'s order, verdict last', () => {
  const out = renderText(fullReport());
  const lines = out.trimEnd().split('\n');
  assert.is(lines[0], 'Plan for feature (1a2b3c4) "web: bigger banner" compared with the live state of http://127.0.0.1:7480 (revision 5d6e7f8).');
  assert.is(lines.at(-1), 'Plan: 1 to create, 1 to change, 1 to prune. Unschedulable: 2 pods would not fit on any node. 2 warnings. Do not merge.');
  const order = ['Changes (3), in apply order:', 'Rollout impact:', 'Scheduling (2 nodes):', 'Warnings (2):'].map((h) => out.indexOf(h));
  assert.ok(order.every((i, n) => i > 0 && (n === 0 || i > order[n - 1])), `order ${order}`);
  assert.not.ok(out.includes('Errors'), 'no empty Errors section');
  assert.not.ok(out.includes('\x1b['), 'no colors');
});

test('text: each change with its place, then its diff indented', () => {
  const out = renderText(fullReport());
  assert.ok(out.includes('  update Deployment shop/web (apps/web.yaml:1)\n      spec:\n    -   replicas: 3\n    +   replicas: 5\n'));
  assert.ok(out.includes('  prune Service shop/old|svc\n    - apiVersion: v1\n'));
  assert.ok(out.includes('  create ConfigMap shop/big-config (apps/big.yaml:1)\n    +   key0: value0\n'));
});

test('text: rollout impact, unschedulable pods with the Kubernetes message, resources in human units', () => {
  const out = renderText(fullReport());
  assert.ok(out.includes('Rollout impact:\n  Deployment shop/web: scales 3 → 5 pods, no replacement\n'));
  assert.equal(section(out, 'Scheduling').split('\n'), [
    'Scheduling (2 nodes):',
    '  Deployment shop/big: 2 of 3 new pods would not fit on any node: 0/2 nodes are available: 2 Insufficient memory.',
  ]);
  assert.equal(section(out, '  RESOURCE').split('\n'), [
    '  RESOURCE   REQUESTED BEFORE   REQUESTED AFTER   ALLOCATABLE',
    '  cpu        1.5 (37%)          2.25 (56%)        4',
    '  memory     512Mi (6%)         1.2Gi (15%)       8Gi',
    '  pods       3 (1%)             6 (2%)            220',
  ]);
});

test('text: warnings in the issue format with their code', () => {
  assert.equal(section(renderText(fullReport()), 'Warnings').split('\n'), [
    'Warnings (2):',
    '  apps/web.yaml:30:3: Service/web: spec.selector: matches no pod template: app=<web|api> [SelectorMatchesNoPods]',
    '  Deployment/big: -: image busybox:latest is not pinned [LatestImage]',
  ]);
});

test('text: invalid shows the errors and the refusal, nothing else', () => {
  const out = renderText(invalidReport());
  assert.equal(out.trimEnd().split('\n').slice(1), [
    '',
    'Errors (2):',
    '  apps/web.yaml:12:9: Deployment/web: spec.replicas: must be integer',
    '  apps/web.yaml:20:5: Deployment/web: spec.template.spec.containers[0].imagePullPolicy: must be one of: Always, IfNotPresent, Never',
    '',
    'Invalid: 2 errors. Do not merge.',
  ]);
});

test('text: no changes against a base revision', () => {
  const out = renderText(unchangedReport());
  assert.ok(out.startsWith('Plan for feature (1a2b3c4) "web: bigger banner" compared with the desired state at main (5d6e7f8).\n'));
  assert.ok(out.includes('\nNo changes: nothing would be created, changed or pruned.\n'));
  assert.ok(out.includes('\nScheduling: not checked: compared with a base revision: no nodes to schedule on.\n'));
  assert.ok(out.endsWith('\nNo changes. Valid, scheduling not checked.\n'));
});

// ---- markdown -----------------------------------------------------------------------------------------------

test('markdown: verdict heading with its emoji and the summary line', () => {
  const blocked = renderMarkdown(fullReport());
  assert.ok(blocked.startsWith('### ❌ convergit plan: do not merge\n\n**Plan: 1 to create, 1 to change, 1 to prune. Unschedulable: 2 pods would not fit on any node. 2 warnings. Do not merge.**\n'));
  assert.ok(blocked.includes('\n`feature` (`1a2b3c4`) "web: bigger banner" compared with the live state of `http://127.0.0.1:7480` (revision `5d6e7f8`).\n'));
  const warned = renderMarkdown({ ...fullReport(), schedulable: true, scheduling: { ...fullReport().scheduling, unschedulable: [] } });
  assert.ok(warned.startsWith('### ⚠️ convergit plan: ready, review the warnings\n'));
  assert.ok(renderMarkdown(unchangedReport()).startsWith('### ✅ convergit plan: ready to merge\n\n**No changes. Valid, scheduling not checked.**\n'));
  assert.ok(renderMarkdown(invalidReport()).startsWith('### ❌ convergit plan: do not merge\n\n**Invalid: 2 errors. Do not merge.**\n'));
});

test('markdown: errors as a list with file:line:column', () => {
  const out = renderMarkdown(invalidReport());
  assert.ok(out.includes('#### ❌ Errors (2)\n\n- `apps/web.yaml:12:9` Deployment/web: spec.replicas: must be integer\n'));
  assert.ok(out.includes('- `apps/web.yaml:20:5` Deployment/web: spec.template.spec.containers\\[0\\].imagePullPolicy: must be one of: Always, IfNotPresent, Never'));
  assert.not.ok(out.includes('#### Changes'), 'an invalid revision has no plan');
});

test('markdown: a table of changes, `|` escaped in cells', () => {
  const out = renderMarkdown(fullReport());
  assert.ok(out.includes([
    '| Action | Kind | Name | File |',
    '|---|---|---|---|',
    '| create | ConfigMap | shop/big-config | `apps/big.yaml:1` |',
    '| update | Deployment | shop/web | `apps/web.yaml:1` |',
    '| prune | Service | shop/old\\|svc |  |',
  ].join('\n')));
});

test('markdown: short diffs inline, long ones collapsible, in ```diff blocks', () => {
  const out = renderMarkdown(fullReport());
  assert.ok(out.includes('**update Deployment shop/web**\n\n```diff\n  spec:\n-   replicas: 3\n+   replicas: 5\n```\n'));
  const n = COLLAPSE_OVER_LINES + 5;
  assert.ok(out.includes(`<details><summary>create ConfigMap shop/big-config (${n} lines)</summary>\n\n\`\`\`diff\n+   key0: value0\n`));
  assert.ok(out.includes(`+   key${n - 1}: value${n - 1}\n\`\`\`\n\n</details>`));
  // Exactly at the threshold is still inline.
  const r = fullReport();
  r.changes[0].diff = r.changes[0].diff.slice(0, COLLAPSE_OVER_LINES);
  assert.not.ok(renderMarkdown(r).includes('<details>'));
});

test('markdown: a very long diff is cut, saying how much is left out', () => {
  const r = fullReport();
  r.changes[0].diff = Array.from({ length: MAX_DIFF_LINES + 7 }, (_, i) => `+ line${i}`);
  const out = renderMarkdown(r);
  assert.ok(out.includes(`+ line${MAX_DIFF_LINES - 1}\n\`\`\`\n\n… 7 more lines: run \`convergit plan\` with \`--output text\` to see them all.\n\n</details>`));
  assert.not.ok(out.includes(`line${MAX_DIFF_LINES}\n`));
});

test('markdown: a plan too long for one GitHub comment keeps every section and the diffs that fit, in order', () => {
  const r = fullReport();
  // 300 ConfigMaps of 40 lines each: some 400 kB of diffs.
  r.changes = Array.from({ length: 300 }, (_, i) => ({
    action: 'create' as const, kind: 'ConfigMap', namespace: 'shop', name: `config-${i}`, file: `config-${i}.yaml`, line: 1,
    diff: Array.from({ length: 40 }, (_, j) => `+   key${j}: a value long enough to weigh something (${i}/${j})`),
  }));
  const out = renderMarkdown(r);
  assert.ok(Buffer.byteLength(out) <= MAX_COMMENT_SIZE, `${Buffer.byteLength(out)} bytes`);
  // Every change is in the table, and every section after the changes is still there.
  for (const i of [0, 150, 299]) assert.ok(out.includes(`| create | ConfigMap | shop/config-${i} | \`config-${i}.yaml:1\` |`), `row ${i}`);
  for (const heading of ['#### Rollout impact', '#### Scheduling (2 nodes)', '#### ⚠️ Warnings (2)']) assert.ok(out.includes(heading), heading);
  // The first diffs are shown; the rest are counted, with where to read them.
  const shown = (out.match(/<details><summary>create ConfigMap shop\/config-\d+ /g) ?? []).length;
  assert.ok(shown > 10 && shown < 300, `${shown} diffs shown`);
  assert.ok(out.includes(`<summary>create ConfigMap shop/config-${shown - 1} (40 lines)`));
  assert.not.ok(out.includes(`<summary>create ConfigMap shop/config-${shown} `));
  assert.ok(out.includes(`\n… the diffs of ${300 - shown} more objects are left out: a GitHub comment holds at most 65,536 characters. Run \`convergit plan\` with \`--output text\` to see them all.\n`));
  // A plan that fits is printed whole.
  assert.not.ok(renderMarkdown(fullReport()).includes('are left out'));
});

test('markdown: what it is compared with, names as code unless they are words', () => {
  const base = unchangedReport();
  assert.ok(renderMarkdown(base).includes(' compared with the desired state at `main` (`5d6e7f8`).\n'));
  base.against = { source: 'base', name: 'merge base with main', sha: LIVE };
  assert.ok(renderMarkdown(base).includes(' compared with the desired state at merge base with main (`5d6e7f8`).\n'));
  base.against = { source: 'data-dir', name: 'data' };
  base.ref = { name: SHA, sha: SHA };
  assert.ok(renderMarkdown(base).includes('\n`1a2b3c4` compared with the live state in data folder `data`.\n'));
});

test('markdown: a diff holding ``` gets a longer fence', () => {
  const r = fullReport();
  r.changes[1].diff = ['  data:', '+   README.md: |', '+     ```sh', '+     make', '+     ```'];
  assert.ok(renderMarkdown(r).includes('````diff\n  data:\n+   README.md: |\n+     ```sh\n+     make\n+     ```\n````\n'));
});

test('markdown: rollout impact, scheduling and warnings; `<` and `|` escaped', () => {
  const out = renderMarkdown(fullReport());
  assert.ok(out.includes([
    '#### Rollout impact',
    '',
    '| Workload | Action | Replicas | Pods started / stopped | Impact |',
    '|---|---|---|---|---|',
    '| Deployment shop/web | scale | 3 → 5 | +2 / −0 | scales 3 → 5 pods, no replacement |',
  ].join('\n')));
  assert.ok(out.includes('❌ **2 new pods would not fit on any node:**\n\n- Deployment shop/big: 2 of 3: 0/2 nodes are available: 2 Insufficient memory.\n'));
  assert.ok(out.includes([
    '| Resource | Requested before | Requested after | Allocatable |',
    '|---|--:|--:|--:|',
    '| cpu | 1.5 (37%) | 2.25 (56%) | 4 |',
    '| memory | 512Mi (6%) | 1.2Gi (15%) | 8Gi |',
    '| pods | 3 (1%) | 6 (2%) | 220 |',
  ].join('\n')));
  assert.ok(out.includes('#### ⚠️ Warnings (2)\n\n- `apps/web.yaml:30:3` Service/web: spec.selector: matches no pod template: app=&lt;web\\|api&gt; \\[SelectorMatchesNoPods\\]\n'));
  assert.ok(out.includes('- Deployment/big: -: image busybox:latest is not pinned \\[LatestImage\\]\n'));
});

/** Valid and schedulable, with the LatestImage warning already present before the change. */
function withPreexisting(): PlanReport {
  const r = fullReport();
  return {
    ...r, schedulable: true, scheduling: { ...r.scheduling, unschedulable: [] },
    warnings: [r.warnings[0], { ...r.warnings[1], preexisting: true }],
  };
}

test('pre-existing warnings: not counted, shown after the new ones, apart (text) or folded (markdown)', () => {
  const r = withPreexisting();
  const text = renderText(r);
  assert.equal(section(text, 'Warnings').split('\n'), [
    'Warnings (1):',
    '  apps/web.yaml:30:3: Service/web: spec.selector: matches no pod template: app=<web|api> [SelectorMatchesNoPods]',
  ]);
  assert.equal(section(text, '1 warning already present').split('\n'), [
    '1 warning already present before this change:',
    '  Deployment/big: -: image busybox:latest is not pinned [LatestImage]',
  ]);
  assert.ok(text.indexOf('Warnings (1):') < text.indexOf('1 warning already present'));
  assert.ok(text.endsWith('\n\nPlan: 1 to create, 1 to change, 1 to prune. Valid, schedulable, 1 warning.\n'), text);
  const md = renderMarkdown(r);
  assert.ok(md.startsWith('### ⚠️ convergit plan: ready, review the warnings\n\n**Plan: 1 to create, 1 to change, 1 to prune. Valid, schedulable, 1 warning.**\n'));
  assert.ok(md.endsWith([
    '#### ⚠️ Warnings (1)',
    '',
    '- `apps/web.yaml:30:3` Service/web: spec.selector: matches no pod template: app=&lt;web\\|api&gt; \\[SelectorMatchesNoPods\\]',
    '',
    '<details><summary>1 warning already present</summary>',
    '',
    '- Deployment/big: -: image busybox:latest is not pinned \\[LatestImage\\]',
    '',
    '</details>',
    '',
  ].join('\n')), md);
});

test('only pre-existing warnings: ready to merge, no warning in the summary, and no warnings heading', () => {
  const r = withPreexisting();
  r.warnings = r.warnings.map((w) => ({ ...w, preexisting: true as const }));
  const md = renderMarkdown(r);
  assert.ok(md.startsWith('### ✅ convergit plan: ready to merge\n\n**Plan: 1 to create, 1 to change, 1 to prune. Valid, schedulable.**\n'), md);
  assert.not.ok(md.includes('#### ⚠️ Warnings'));
  assert.ok(md.includes('\n\n<details><summary>2 warnings already present</summary>\n\n- `apps/web.yaml:30:3` Service/web'));
  const text = renderText(r);
  assert.not.ok(text.includes('Warnings ('));
  assert.ok(text.includes('\n\n2 warnings already present before this change:\n  apps/web.yaml:30:3: Service/web:'));
  assert.ok(text.endsWith('\n\nPlan: 1 to create, 1 to change, 1 to prune. Valid, schedulable.\n'));
  // Unschedulable still blocks, and says nothing of the old warnings.
  const blocked = renderText({ ...r, schedulable: false, scheduling: fullReport().scheduling });
  assert.ok(blocked.endsWith('Unschedulable: 2 pods would not fit on any node. Do not merge.\n'), blocked);
});

test('text: a rollback that reuses a ReplicaSet names it, once', () => {
  const r = fullReport();
  r.rollouts[0] = { ...r.rollouts[0], action: 'replace', reuses: { replicaSet: 'web-5d8f7', revision: '2' }, summary: 'replaces 3 pods' };
  assert.ok(renderText(r).includes('  Deployment shop/web: replaces 3 pods; rolls back to ReplicaSet web-5d8f7 (revision 2)\n'));
  r.rollouts[0].summary = 'rolls back to revision 2: scales ReplicaSet web-5d8f7 up again';
  assert.ok(renderText(r).includes('  Deployment shop/web: rolls back to revision 2: scales ReplicaSet web-5d8f7 up again\n'));
});

// ---- json ---------------------------------------------------------------------------------------------------

test('json: round-trips, fields in the documented order whatever order they were built in', () => {
  const r = fullReport();
  const out = renderJson(r);
  assert.ok(out.endsWith('}\n'));
  assert.equal(JSON.parse(out), r);
  const shuffled = Object.fromEntries(Object.entries(r).reverse()) as unknown as PlanReport;
  shuffled.scheduling = Object.fromEntries(Object.entries(r.scheduling).reverse()) as unknown as PlanReport['scheduling'];
  assert.is(renderJson(shuffled), out);
  assert.equal(Object.keys(JSON.parse(out)), [
    'apiVersion', 'kind', 'ref', 'against', 'valid', 'schedulable', 'changed', 'errors', 'warnings', 'summary', 'changes', 'rollouts', 'scheduling', 'dataDeletions',
  ]);
});

test('json: fields added later are kept, after the documented ones', () => {
  const r = { ...fullReport(), extra: 1, scheduling: { later: true, ...fullReport().scheduling, stalls: [] } } as PlanReport;
  const parsed = JSON.parse(renderJson(r));
  assert.is(Object.keys(parsed).at(-1), 'extra');
  assert.equal(Object.keys(parsed.scheduling), ['checked', 'nodes', 'unschedulable', 'resources', 'stalls', 'later']);
});

test('json: preexisting follows a warning\'s message, and is left out when new', () => {
  const r = withPreexisting();
  r.warnings[1] = { preexisting: true, ...fullReport().warnings[1] };
  const [fresh, old] = JSON.parse(renderJson(r)).warnings;
  assert.equal(Object.keys(old), ['code', 'kind', 'namespace', 'name', 'message', 'preexisting']);
  assert.is('preexisting' in fresh, false);
});

test('renderReport dispatches by format; output is deterministic', () => {
  const r = fullReport();
  assert.is(renderReport(r, 'text'), renderText(r));
  assert.is(renderReport(r, 'markdown'), renderMarkdown(r));
  assert.is(renderReport(r, 'json'), renderJson(r));
  for (const f of ['text', 'markdown', 'json'] as const) assert.is(renderReport(fullReport(), f), renderReport(r, f));
});

test('human units: cores and binary memory', () => {
  assert.equal([0, 250, 1000, 1500, 2250, 999.2].map(cpuText), ['0', '250m', '1', '1.5', '2.25', '1']);
  assert.equal([0, 512, 512 * Mi, 1.2 * Gi, 8 * Gi, 1536 * 2 ** 10].map(memoryText), ['0', '512', '512Mi', '1.2Gi', '8Gi', '1.5Mi']);
});

test.run();
