// `convergit plan` as a process, as a CI job runs it: against the merge base, a data folder or a running serve,
// each output format, exit codes, errors, a remote repository over HTTP; and GET /plan answering the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, runGit, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { startGitHttpServer } from '../support/git-http-server.ts';
import { until } from '../support/wait.ts';
import { cloneDir } from '../../src/source/remote.ts';
import { readStateFile } from '../../src/store/persist.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const DOC = new URL('../../docs/plan-json.md', import.meta.url).pathname;

/** Where `plan` keeps clones of remote repositories: the user's cache folder, a temp one for these tests. */
const CACHE = mkdtempSync(path.join(tmpdir(), 'convergit-plan-cache-'));

/** Runs the convergit CLI as a process: its exit code and output (an object among the arguments: more environment). */
function cli(...args: (string | NodeJS.ProcessEnv)[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, XDG_CACHE_HOME: CACHE, ...args.find((a) => typeof a === 'object') };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args.filter((a) => typeof a === 'string')], { encoding: 'utf8', env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** `plan` with its output parsed as JSON (the exit code kept). */
async function planJson(...args: (string | NodeJS.ProcessEnv)[]) {
  const r = await cli('plan', ...args, '--output', 'json');
  let json: any;
  try { json = JSON.parse(r.stdout); } catch { assert.unreachable(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`); }
  return { ...r, json };
}

const web = (image: string, memory = '64Mi') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: web
          image: ${image}
          command: ["node", "-e", "setInterval(() => {}, 60000)"]
          resources:
            requests:
              cpu: 50m
              memory: ${memory}
`;

/** A ConfigMap of 40 keys: changing every value makes a diff long enough to be folded in markdown. */
const settings = (value: (i: number) => string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
${Array.from({ length: 40 }, (_, i) => `  k${String(i + 1).padStart(2, '0')}: "${value(i)}"`).join('\n')}
`;

const changesOf = (report: any) => report.changes.map((c: any) => `${c.action} ${c.kind}/${c.name}`);

// `local`: a repository planned with no live state. `live`: the one a serve runs, planned against it.
let local: TestRepo, branchPoint: string, live: TestRepo, dataDir: string, serve: ServeProcess;

test.before(async () => {
  live = makeRepo({ 'settings.yaml': settings(() => 'a'), 'web.yaml': web('node:20') });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-plan-cli-'));
  // Started first, so it applies while the tests without live state run.
  serve = await startServe(['--repo', live.dir, '--data-dir', dataDir, '--nodes', '1', '--node-memory', '1Gi', '--node-cpu', '2']);
  live.git('checkout', '-q', '-b', 'big');
  live.write('web.yaml', web('node:20', '8Gi'));
  live.commit('web: 8Gi per pod');
  live.git('checkout', '-q', 'main');

  local = makeRepo({ 'settings.yaml': settings(() => 'a'), 'web.yaml': web('node:20') });
  branchPoint = local.git('rev-parse', 'HEAD');
  local.git('checkout', '-q', '-b', 'feature');
  local.write('web.yaml', web('node:22'));
  local.commit('web: node 22');
  local.git('checkout', '-q', '-b', 'long', branchPoint);
  local.write('web.yaml', web('node:22'));
  local.write('settings.yaml', settings((i) => `value ${i} changed`));
  local.commit('settings: every value');
  local.git('checkout', '-q', '-b', 'broken', branchPoint);
  local.write('web.yaml', web('node:20').replace('replicas: 1', 'replicas: many'));
  local.commit('web: bad replicas');
  // main moves on after the branch point: its change is not the feature's.
  local.git('checkout', '-q', 'main');
  local.write('settings.yaml', settings((i) => (i === 0 ? 'moved on' : 'a')));
  local.commit('settings: k01 on main');
});

test.after(async () => {
  await serve?.shutdown();
  local?.cleanup();
  live?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(CACHE, { recursive: true, force: true });
});

test('no live state: the default base is the merge base with main, so only the feature\'s change shows', async () => {
  const [r, text] = await Promise.all([planJson('--repo', local.dir, '--ref', 'feature'), cli('plan', '--repo', local.dir, '--ref', 'feature')]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(changesOf(r.json), ['update Deployment/web']);
  assert.equal(r.json.against, { source: 'base', name: 'merge base with main', sha: branchPoint });
  assert.is(r.json.ref.sha, local.git('rev-parse', 'feature'));
  assert.equal(r.json.summary, { create: 0, update: 1, prune: 0, unchanged: 1 });
  assert.equal(r.json.warnings, []);
  assert.equal(r.json.rollouts.map((w: any) => `${w.action} ${w.name} ${w.podsCreated}`), ['replace web 1']);
  assert.is(r.json.scheduling.checked, false);

  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Plan for feature \([0-9a-f]{7}\) "web: node 22" compared with the desired state at merge base with main/);
  assert.match(text.stdout, /^ {4}-\s+image: node:20$/m);
  assert.match(text.stdout, /^ {4}\+\s+image: node:22$/m);
  assert.not.match(text.stdout, /moved on|settings/, 'main\'s later change is not the feature\'s');
  assert.match(text.stdout, /^Scheduling: not checked/m);
  assert.match(text.stdout, /Plan: 0 to create, 1 to change, 0 to prune\. Valid, scheduling not checked\.\n$/);
});

test('no live state: --base <ref> compares with that ref, so main\'s later change shows as undone', async () => {
  const r = await planJson('--repo', local.dir, '--ref', 'feature', '--base', 'main');
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.json.against, { source: 'base', name: 'main', sha: local.git('rev-parse', 'main') });
  assert.equal(changesOf(r.json).sort(), ['update ConfigMap/settings', 'update Deployment/web']);
  const cm = r.json.changes.find((c: any) => c.kind === 'ConfigMap');
  assert.ok(cm.diff.includes('-   k01: moved on') && cm.diff.includes('+   k01: a'), cm.diff.join('\n'));
});

test('exit codes: 0 without changes, 2 with --detailed-exitcode when changed, 0 without the flag', async () => {
  const [same, changed, plain, base] = await Promise.all([
    cli('plan', '--repo', local.dir, '--ref', 'main', '--base', 'main', '--detailed-exitcode'),
    cli('plan', '--repo', local.dir, '--ref', 'feature', '--detailed-exitcode'),
    cli('plan', '--repo', local.dir, '--ref', 'feature'),
    // The ref itself as base: its merge base with itself is itself.
    cli('plan', '--repo', local.dir, '--ref', branchPoint, '--detailed-exitcode'),
  ]);
  assert.is(same.code, 0, same.stderr);
  assert.match(same.stdout, /No changes: nothing would be created, changed or pruned\./);
  assert.is(changed.code, 2, changed.stderr);
  assert.is(plain.code, 0, plain.stderr);
  assert.is(plain.stdout, changed.stdout, 'the flag changes the exit code only');
  assert.is(base.code, 0, base.stderr);
});

test('an invalid ref: exit 1 (even without the flag), each error as file:line:column: kind/name: field: message', async () => {
  const [text, json, detailed] = await Promise.all([
    cli('plan', '--repo', local.dir, '--ref', 'broken'),
    planJson('--repo', local.dir, '--ref', 'broken'),
    cli('plan', '--repo', local.dir, '--ref', 'broken', '--detailed-exitcode'),
  ]);
  assert.is(text.code, 1, text.stderr);
  assert.is(detailed.code, 1);
  assert.is(json.code, 1);
  assert.is(json.json.valid, false);
  assert.equal(json.json.changes, []);
  const e = json.json.errors[0];
  assert.equal([e.file, e.line, e.column, e.kind, e.name, e.field], ['web.yaml', 6, 3, 'Deployment', 'web', 'spec.replicas']);
  const lines = text.stdout.split('\n').map((l) => l.trim());
  assert.ok(lines.includes(`web.yaml:6:3: Deployment/web: spec.replicas: ${e.message}`), text.stdout);
  assert.match(text.stdout, /Invalid: 1 error\. Do not merge\.\n$/);
});

test('--output markdown: a heading first, diffs in ```diff blocks, a long one folded in <details>', async () => {
  const r = await cli('plan', '--repo', local.dir, '--ref', 'long', '--output', 'markdown');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#{1,6} \S/);
  assert.match(r.stdout, /```diff\n/);
  // The ConfigMap's 40 changed values: collapsed, the diff block inside the <details>.
  const folded = r.stdout.match(/<details><summary>update ConfigMap default\/settings \((\d+) lines\)<\/summary>\n\n```diff\n([\s\S]*?)\n```\n\n<\/details>/);
  assert.ok(folded, r.stdout);
  assert.ok(Number(folded![1]) >= 80, folded![1]);
  assert.match(folded![2], /^-\s+k40: a$/m);
  assert.match(folded![2], /^\+\s+k40: value 39 changed$/m);
  // The Deployment's short diff stays inline.
  assert.match(r.stdout, /\*\*update Deployment default\/web\*\*\n\n```diff\n[^`]*\+\s+image: node:22\n[^`]*```/);
  assert.is(r.stdout.match(/<details>/g)!.length, 1, 'only the long diff is folded');
});

test('--output json: apiVersion convergit.dev/v1, kind PlanReport, the fields docs/plan-json.md documents, in its order', async () => {
  const r = await planJson('--repo', local.dir, '--ref', 'long');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.apiVersion, 'convergit.dev/v1');
  assert.is(r.json.kind, 'PlanReport');
  assertDocumented(r.json);
  assert.is(r.stdout, JSON.stringify(r.json, null, 2) + '\n', 'two-space indented, ending with a newline');
});

test('errors: unknown ref, --server with --base, an unreachable server, a folder that is not a repository: exit 1', async () => {
  const closedPort = await freePort();
  const notRepo = mkdtempSync(path.join(tmpdir(), 'convergit-not-a-repo-'));
  try {
    const [unknown, both, unreachable, notGit, absent] = await Promise.all([
      cli('plan', '--repo', local.dir, '--ref', 'no-such-branch'),
      cli('plan', '--repo', local.dir, '--ref', 'feature', '--server', 'http://127.0.0.1:7480', '--base', 'main'),
      cli('plan', '--repo', local.dir, '--ref', 'feature', '--server', `http://127.0.0.1:${closedPort}`),
      cli('plan', '--repo', notRepo, '--ref', 'main'),
      cli('plan', '--repo', path.join(notRepo, 'absent'), '--ref', 'main'),
    ]);
    assert.is(unknown.code, 1);
    assert.match(unknown.stderr, /'no-such-branch' not found/);
    assert.is(both.code, 1);
    assert.match(both.stderr, /--server and --base .*give one/);
    assert.is(unreachable.code, 1);
    assert.match(unreachable.stderr, new RegExp(`cannot reach convergit at http://127\\.0\\.0\\.1:${closedPort}`));
    assert.is(notGit.code, 1);
    assert.match(notGit.stderr, new RegExp(`${escape(notRepo)} is not a git repository`));
    assert.is(absent.code, 1);
    assert.match(absent.stderr, /absent does not exist/);
    for (const r of [unknown, both, unreachable, notGit, absent]) assert.is(r.stdout, '', 'no report when no plan was made');
  } finally {
    rmSync(notRepo, { recursive: true, force: true });
  }
});

// ---- Against a running serve ---------------------------------------------------------------------------------

test('--data-dir of a running serve: 8Gi per pod fits on no node, exit 1, and the serve is not disturbed', async () => {
  const head = live.git('rev-parse', 'main');
  await until(async () => {
    const s = (await serve.get('/status')).body;
    return s.lastAppliedRevision === head && s.health?.revision === head && s.health.status === 'Healthy';
  }, 'main applied and Healthy', 20_000);
  // The state (state.json and its journal) is written shortly after a change: wait until it holds the applied
  // revision and the bound pod.
  await until(async () => {
    const state = await readStateFile(path.join(dataDir, 'state.json')) as any;
    return state.meta.sync?.lastApplied === head && state.objects.some((o: any) => o.kind === 'Pod' && o.spec.nodeName);
  }, 'state.json with the applied revision');
  // The serve writes its load cache a moment after the sync (main's two files): what it writes itself is not the plan's.
  const servesLoads = path.join(dataDir, 'loads', 'loads.ndjson');
  await until(() => existsSync(servesLoads) && readFileSync(servesLoads, 'utf8').split('\n').filter(Boolean).length >= 3, "the serve's load cache");
  const before = readdirSync(dataDir).sort();

  const [text, json, server] = await Promise.all([
    cli('plan', '--repo', live.dir, '--ref', 'big', '--data-dir', dataDir),
    planJson('--repo', live.dir, '--ref', 'big', '--data-dir', dataDir),
    planJson('--repo', live.dir, '--ref', 'big', '--server', serve.url, '--detailed-exitcode'),
  ]);
  assert.is(text.code, 1, text.stderr);
  assert.match(text.stdout, /Deployment default\/web: 1 of 1 new pods would not fit on any node: 0\/1 nodes are available: 1 Insufficient memory\./);
  assert.match(text.stdout, /Unschedulable: 1 pod would not fit on any node\. Do not merge\.\n$/);
  assert.is(json.code, 1);
  assert.equal(json.json.against, { source: 'data-dir', name: dataDir, sha: head });
  assert.is(json.json.schedulable, false);
  assert.is(json.json.scheduling.nodes, 1);
  assert.is(json.json.scheduling.resources.memory.allocatable, 2 ** 30);
  assertDocumented(json.json);

  // --server gives the same answer, from the API instead of the folder (and 1 beats --detailed-exitcode's 2).
  assert.is(server.code, 1, server.stderr);
  assert.equal(server.json.against, { source: 'server', name: serve.url, sha: head });
  assert.equal({ ...server.json, against: undefined }, { ...json.json, against: undefined });

  // Planning read the folder only: the serve still runs, synced, and its folder holds what it held.
  assert.ok(process.kill(serve.pid, 0));
  const s = (await serve.get('/status')).body;
  assert.is(s.sync, 'Synced');
  assert.is(s.lastAppliedRevision, head);
  assert.equal(readdirSync(dataDir).sort(), before);
  assert.is((await cli('plan', '--repo', live.dir, '--ref', 'main', '--data-dir', dataDir, '--detailed-exitcode')).code, 0, 'main is what runs');

  // A user whose own cache is empty: what serve loaded comes from its load cache (read only), so the plan loads and
  // caches only big's web.yaml, which serve never had; the same report.
  const home = mkdtempSync(path.join(tmpdir(), 'convergit-plan-home-'));
  try {
    const serves = readFileSync(servesLoads, 'utf8');
    const first = await planJson('--repo', live.dir, '--ref', 'big', '--data-dir', dataDir, { XDG_CACHE_HOME: home });
    assert.equal(first.json, json.json);
    const ours = readFileSync(path.join(home, 'convergit', 'loads', 'loads.ndjson'), 'utf8').split('\n').filter(Boolean);
    assert.is(ours.length, 2, `a header and big's web.yaml only: ${ours.map((l) => l.split('\t')[1]).join(', ')}`);
    assert.match(ours[1], /web\.yaml/);
    assert.is(readFileSync(servesLoads, 'utf8'), serves, "serve's cache not written");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('GET /plan: the same report as the CLI with --server, in each format; an unknown format is a 400', async () => {
  const [md, text, json, cliMd, cliText, cliJson] = await Promise.all([
    serve.get('/plan?ref=big&output=markdown'),
    serve.get('/plan?ref=big&output=text'),
    serve.get('/plan?ref=big'),
    cli('plan', '--repo', live.dir, '--ref', 'big', '--server', serve.url, '--output', 'markdown'),
    cli('plan', '--repo', live.dir, '--ref', 'big', '--server', serve.url),
    planJson('--repo', live.dir, '--ref', 'big', '--server', serve.url),
  ]);
  const type = async (q: string) => (await fetch(`${serve.url}/plan?${q}`)).headers.get('content-type');
  assert.is(md.status, 200);
  assert.match(await type('ref=big&output=markdown') ?? '', /^text\/markdown/);
  // The serve names itself by the URL it listens on, the same one the CLI was given: byte for byte equal.
  assert.match(md.text, new RegExp(`compared with the live state of \`${escape(serve.url)}\``));
  assert.is(md.text, cliMd.stdout);
  assert.match(md.text, /Insufficient memory/);

  assert.is(text.status, 200);
  assert.match(await type('ref=big&output=text') ?? '', /^text\/plain/);
  assert.is(text.text, cliText.stdout);

  assert.is(json.status, 200);
  assert.match(await type('ref=big') ?? '', /^application\/json/);
  assert.equal(json.body, cliJson.json);
  assert.is(json.text, cliJson.stdout, 'the same bytes, in the documented order');

  const bogus = await serve.get('/plan?ref=big&output=bogus');
  assert.is(bogus.status, 400);
  assert.is(bogus.body.reason, 'BadRequest');
  assert.match(bogus.body.message, /output: must be one of text, markdown, json, not "bogus"/);
});

// ---- A remote repository -------------------------------------------------------------------------------------

test('--repo http://…: cloned into the user\'s cache folder (two plans at once too), planned against the merge base; branches pushed later are fetched', async () => {
  const repo = makeRepo({ 'settings.yaml': settings(() => 'a'), 'web.yaml': web('node:20') }, { bare: true });
  const http = await startGitHttpServer(path.dirname(repo.dir));
  const url = `${http.url}/${path.basename(repo.dir)}`;
  const clone = cloneDir(path.join(CACHE, 'convergit', 'plan'), url);
  try {
    const push = (branch: string, file: string, content: string) => {
      runGit(repo.work, 'checkout', '-q', '-B', branch, 'main');
      repo.write(file, content);
      runGit(repo.work, 'commit', '-qam', `${branch}: change`);
      runGit(repo.work, 'push', '-q', 'origin', branch);
      return runGit(repo.work, 'rev-parse', 'HEAD');
    };
    const main = repo.git('rev-parse', 'main');
    const feature = push('feature', 'web.yaml', web('node:22'));
    // Two CI jobs at once on a new repository both clone it: the one that loses the race uses the other's clone.
    const [r, twin] = await Promise.all([0, 1].map(() => planJson('--repo', url, '--ref', 'feature', '--detailed-exitcode')));
    assert.is(r.code, 2, r.stderr);
    assert.is(twin.code, 2, twin.stderr);
    assert.is(twin.stdout, r.stdout);
    assert.is(r.json.ref.sha, feature);
    assert.equal(r.json.against, { source: 'base', name: 'merge base with main', sha: main });
    assert.equal(changesOf(r.json), ['update Deployment/web']);
    assert.ok(existsSync(clone), `cloned into ${clone}`);

    // The next plan reuses the clone and fetches: a pull request's branch pushed since is found.
    const later = push('later', 'settings.yaml', settings(() => 'b'));
    const again = await planJson('--repo', url, '--ref', 'later');
    assert.is(again.code, 0, again.stderr);
    assert.is(again.json.ref.sha, later);
    assert.equal(changesOf(again.json), ['update ConfigMap/settings']);
  } finally {
    await http.stop();
    repo.cleanup();
    rmSync(clone, { recursive: true, force: true });
  }
});

// ---- Helpers -------------------------------------------------------------------------------------------------

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A port nothing listens on: one the system just handed out and took back. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The fields of each type in docs/plan-json.md: the first column of the first table under its heading. */
function documentedFields(): Map<string, string[]> {
  const doc = readFileSync(DOC, 'utf8');
  const types = new Map<string, string[]>();
  for (const section of doc.split(/^#{2,3} /m).slice(1)) {
    const name = section.slice(0, section.indexOf('\n')).trim();
    const table = section.match(/^\|[^\n]*\|\n\|[-| ]+\|\n((?:\|[^\n]*\|\n?)+)/m);
    if (!table) continue;
    const fields = table[1].trim().split('\n').flatMap((row) => [...row.split('|')[1].matchAll(/`(\w+)`/g)].map((m) => m[1]));
    types.set(name, fields);
  }
  return types;
}

/**
 * Keeps the doc honest: the report's top-level fields are exactly the documented ones, in the documented order,
 * and every field of the nested parts is documented under its type.
 */
function assertDocumented(report: any) {
  const doc = documentedFields();
  assert.equal(Object.keys(report), doc.get('PlanReport'), 'PlanReport: fields and order as documented');
  const check = (type: string, value: any) => {
    const fields = doc.get(type);
    assert.ok(fields, `docs/plan-json.md documents ${type}`);
    for (const item of Array.isArray(value) ? value : [value]) {
      for (const key of Object.keys(item)) assert.ok(fields!.includes(key), `${type}.${key} is documented`);
    }
  };
  check('Ref', report.ref);
  check('Against', report.against);
  check('Issue', report.errors);
  check('ReviewWarning', report.warnings);
  check('Summary', report.summary);
  check('Change', report.changes);
  check('RolloutImpact', report.rollouts);
  check('SchedulingReport', report.scheduling);
  check('UnschedulablePods', report.scheduling.unschedulable);
  check('RolloutStall', report.scheduling.stalls ?? []);
  for (const r of ['cpu', 'memory', 'pods']) check('ResourceUse', report.scheduling.resources[r]);
}

test.run();
