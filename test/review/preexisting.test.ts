// Warnings a change brings vs warnings already there, over real repositories: planned against the merge base and
// against a live state that applied main. A warning that holds before is marked preexisting; one the change causes
// is new, even on an object the change does not touch. Only new warnings ask for a look.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { settledLive } from '../support/simulated-live.ts';
import { node } from './workload-builders.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { planRevision, type PlanAgainst } from '../../src/review/plan-revision.ts';
import type { PlanReport } from '../../src/review/report.ts';
import { renderMarkdown } from '../../src/review/render-markdown.ts';
import { renderText } from '../../src/review/render-text.ts';
import { summaryLine, verdictOf } from '../../src/review/render-parts.ts';

/** A Deployment labelled app=<name>, requesting cpu; `extra` goes into its pod spec. */
const deployment = (name: string, image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
${extra}      containers:
        - name: app
          image: ${image}
          resources: { requests: { cpu: 100m } }
`;
const readsSettings = '          envFrom: [{ configMapRef: { name: settings } }]\n';
const web = deployment('web', 'busybox').replace('          resources:', `${readsSettings}          resources:`);
const settings = (level: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { level: ${level} }\n`;
const service = 'apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec:\n  selector: { app: api }\n  ports: [{ port: 80 }]\n';
/** hostPID is a Kubernetes field convergit ignores: a loader (Manifest) warning. */
const hostPID = '      hostPID: true\n';

/**
 * main: web (a `busybox` image, reads ConfigMap settings), settings, api with its Service, worker (hostPID),
 * cron. Each test commits its change on branch feature.
 */
function mainRepo(): TestRepo {
  return makeRepo({
    'web.yaml': web,
    'settings.yaml': settings('info'),
    'api.yaml': `${deployment('api', 'registry.local/api:v1')}---\n${service}`,
    'worker.yaml': deployment('worker', 'registry.local/worker:v1', hostPID),
    'cron.yaml': deployment('cron', 'registry.local/cron:v1'),
  }, { message: 'main' });
}

/** The feature branch: settings pruned, api's Deployment pruned (its Service stays), jobs added with a `latest` image, cron given hostPID. */
function commitFeature(repo: TestRepo) {
  repo.git('checkout', '-q', '-b', 'feature');
  repo.remove('settings.yaml');
  repo.write('api.yaml', service);
  repo.write('jobs.yaml', deployment('jobs', 'node:latest'));
  repo.write('cron.yaml', deployment('cron', 'registry.local/cron:v1', hostPID));
  repo.commit('feature');
}

/** Plans `ref` against the merge base with main, or against a live state that applied main and settled. */
async function plan(repo: TestRepo, data: string, mode: 'base' | 'live', ref = 'feature'): Promise<PlanReport> {
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir: data, interval: 0 });
  await source.prepare();
  let against: PlanAgainst = { branch: 'main' };
  if (mode === 'live') {
    const main = repo.git('rev-parse', 'main');
    const applied = await loadDesired(await source.read(main), source, {});
    against = { live: { live: settledLive(applied.objects.map((d) => d.object), [node('n1')]), lastApplied: main }, source: 'server', name: 'http://127.0.0.1:7480' };
  }
  const report = await planRevision(source, { ref, path: '' }, against);
  assert.ok(report.valid, JSON.stringify(report.errors));
  return report;
}

const marked = (r: PlanReport) => r.warnings.map((w) => `${w.preexisting ? 'old' : 'new'} ${w.code} ${w.kind}/${w.name}`).sort();

async function withRepo(fn: (repo: TestRepo, data: string) => Promise<void>) {
  const repo = mainRepo();
  const data = mkdtempSync(join(tmpdir(), 'convergit-preexisting-'));
  try {
    await fn(repo, data);
  } finally {
    repo.cleanup();
    rmSync(data, { recursive: true, force: true });
  }
}

/** What both modes agree on. */
const BOTH = [
  'new LatestImage Deployment/jobs', // an object the change adds
  'new MissingConfigMap Deployment/web', // the change prunes the ConfigMap web reads
  'new SelectorMatchesNoPods Service/api', // the change prunes the pods of a Service it leaves as it was
  'old LatestImage Deployment/web', // busybox was there before, though web changes (its config checksum)
  'old Manifest Deployment/worker', // an object the change leaves alone, warned about when main was loaded
];

test('against the merge base: warnings of the base revision are already present, the change\'s own are new', async () => {
  await withRepo(async (repo, data) => {
    commitFeature(repo);
    const report = await plan(repo, data, 'base');
    // cron's loaded object drops the ignored field, so the plan leaves it unchanged, but the base had no such warning.
    assert.equal(marked(report), [...BOTH, 'new Manifest Deployment/cron'].sort());
    assert.ok(report.changes.some((c) => c.action === 'prune' && c.kind === 'ConfigMap'));
    assert.ok(!report.changes.some((c) => c.kind === 'Service'), 'the Service is unchanged');
    // Only the flag is added: the warning itself is the one reviewWarnings gives, in place.
    const old = report.warnings.find((w) => w.code === 'LatestImage' && w.name === 'web')!;
    assert.equal({ ...old, message: undefined }, {
      code: 'LatestImage', kind: 'Deployment', namespace: 'default', name: 'web', file: 'web.yaml', line: 12, column: 11,
      field: 'spec.template.spec.containers[0].image', message: undefined, preexisting: true,
    });
    assert.is('preexisting' in report.warnings.find((w) => w.name === 'jobs')!, false, 'left out when new');
  });
});

test('against a live state: warnings of the objects git applied are already present, the change\'s own are new', async () => {
  await withRepo(async (repo, data) => {
    commitFeature(repo);
    const report = await plan(repo, data, 'live');
    // Live objects do not keep ignored fields, so a loader warning is judged by its object: cron is unchanged.
    assert.equal(marked(report), [...BOTH, 'old Manifest Deployment/cron'].sort());
    assert.is(report.scheduling.checked, true);
  });
});

test('a loader warning of an object the change updates is new against a live state', async () => {
  await withRepo(async (repo, data) => {
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('worker.yaml', deployment('worker', 'registry.local/worker:v2', hostPID));
    repo.commit('worker v2');
    assert.equal(marked(await plan(repo, data, 'live')), ['new Manifest Deployment/worker', 'old LatestImage Deployment/web']);
    // The base still says it had the same warning.
    assert.equal(marked(await plan(repo, data, 'base')), ['old LatestImage Deployment/web', 'old Manifest Deployment/worker']);
  });
});

test('an object the change leaves alone keeps its own warnings as already there; one it changes is judged by what it was', async () => {
  for (const mode of ['base', 'live'] as const) {
    await withRepo(async (repo, data) => {
      repo.git('checkout', '-q', '-b', 'feature');
      repo.write('cron.yaml', deployment('cron', 'registry.local/cron:latest'));
      repo.write('api.yaml', `${deployment('api', 'registry.local/api:v1').replace('          resources: { requests: { cpu: 100m } }\n', '')}---\n${service}`);
      repo.commit('cron: latest; api: no requests');
      const report = await plan(repo, data, mode);
      assert.equal(report.changes.map((c) => `${c.action} ${c.kind}/${c.name}`).sort(), ['update Deployment/api', 'update Deployment/cron'], mode);
      // web is unchanged: its busybox image was warned about before, as it is now.
      assert.equal(marked(report), ['new LatestImage Deployment/cron', 'new NoResourceRequests Deployment/api', 'old LatestImage Deployment/web', 'old Manifest Deployment/worker'], mode);
      assert.equal(report.warnings.find((w) => w.name === 'web')?.line, 12, mode);
    });
  }
});

test('only pre-existing warnings: ready to merge, no warning counted, the old ones shown folded', async () => {
  for (const mode of ['base', 'live'] as const) {
    await withRepo(async (repo, data) => {
      repo.git('checkout', '-q', '-b', 'feature');
      repo.write('settings.yaml', settings('debug'));
      repo.commit('settings: debug');
      const report = await plan(repo, data, mode);
      assert.equal(marked(report), ['old LatestImage Deployment/web', 'old Manifest Deployment/worker'], mode);
      assert.is(verdictOf(report), 'ready', mode);
      assert.ok(summaryLine(report).startsWith('Plan: 0 to create, 2 to change, 0 to prune. Valid, '), summaryLine(report));
      assert.not.match(summaryLine(report), /warning/);
      const md = renderMarkdown(report);
      assert.ok(md.startsWith('### ✅ convergit plan: ready to merge\n'), md);
      assert.not.match(md, /#### ⚠️ Warnings/);
      assert.match(md, /<details><summary>2 warnings already present<\/summary>\n\n- `web\.yaml:12:11` Deployment\/web: /);
      assert.match(renderText(report), /\n\n2 warnings already present before this change:\n {2}web\.yaml:12:11: Deployment\/web: /);
    });
  }
});

test.run();
