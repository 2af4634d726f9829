// kustomize as Flux runs it, with real repositories and the real kustomize (kubectl kustomize): bases and
// overlays, what is built and what loads alone, refusals before kustomize runs, kustomize's own errors, bounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { tempDir } from '../support/temp-dir.ts';
import { execFileSync } from 'node:child_process';
import { Builder } from '../../src/build/builder.ts';
import { findKustomize } from '../../src/build/kustomize-tool.ts';
import { configMap, deployment, kustomizeMissing, loadAt } from './helpers.ts';

const overlayRepo = () => makeRepo({
  'base/kustomization.yaml': 'resources: [web.yaml, settings.yaml]\n',
  'base/web.yaml': deployment('web'),
  'base/settings.yaml': configMap('settings'),
  'overlays/prod/kustomization.yaml': `resources: [../../base]
namePrefix: prod-
patches:
- path: replicas.yaml
configMapGenerator:
- name: flags
  literals: [mode=prod]
`,
  'overlays/prod/replicas.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n',
  'plain/cm.yaml': configMap('plain'),
});

test('a base and an overlay: patches, namePrefix and configMapGenerator applied; the base and its files are not loaded alone', async () => {
  if (await kustomizeMissing('overlay')) return;
  const repo = overlayRepo();
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.lines, []);
    assert.equal(r.names, ['ConfigMap/plain', 'ConfigMap/prod-flags-mgc92dd9c6', 'ConfigMap/prod-settings', 'Deployment/prod-web']);
    const web = r.objects.find((d) => d.object.kind === 'Deployment')!;
    assert.is(web.object.spec.replicas, 3, 'the patch applied');
    assert.is(web.file, 'overlays/prod/kustomization.built.yaml');
    assert.not.ok(JSON.stringify(r.objects).includes('config.kubernetes.io/origin'), 'the origin annotation the build added is gone');
  } finally {
    repo.cleanup();
  }
});

test('an error in a built object names the built kustomization, the line kubectl kustomize prints, and the source file', async () => {
  if (await kustomizeMissing('positions')) return;
  const repo = overlayRepo();
  try {
    repo.write('base/web.yaml', deployment('web', '\n        imagePullPolicy: Nevr'));
    const r = await loadAt(repo.dir, repo.commit('typo'));
    const tool = (await findKustomize())!;
    const printed = execFileSync(tool.command, [...tool.args, join(repo.work, 'overlays/prod')], { encoding: 'utf8' }).split('\n');
    const line = printed.findIndex((l) => l.includes('imagePullPolicy: Nevr')) + 1;
    assert.ok(line > 0);
    assert.equal(r.lines, [`overlays/prod/kustomization.built.yaml:${line}:9: Deployment/prod-web: spec.template.spec.containers[0].imagePullPolicy: must be one of Always, IfNotPresent, Never (from base/web.yaml)`]);
  } finally {
    repo.cleanup();
  }
});

test('a remote base is refused before kustomize runs, naming the line', async () => {
  const repo = makeRepo({
    'app/kustomization.yaml': 'resources:\n- web.yaml\n- https://github.com/org/repo/deploy?ref=v1\n- github.com/org/other//base\n',
    'app/web.yaml': deployment('web'),
  });
  try {
    const builder = new Builder();
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { builder });
    assert.equal(r.lines, [
      'app/kustomization.yaml:3:3: -: resources[1]: "https://github.com/org/repo/deploy?ref=v1" is a URL: remote bases are refused, a sync never reaches the network; copy it into the repository',
      'app/kustomization.yaml:4:3: -: resources[2]: "github.com/org/other//base" is a remote repository: remote bases are refused, a sync never reaches the network; copy it into the repository',
    ]);
    assert.is(builder.stats.built, 0, 'kustomize never ran');
  } finally {
    repo.cleanup();
  }
});

test('references that leave the repository, are missing, or are folders without a kustomization are refused', async () => {
  const repo = makeRepo({
    'app/kustomization.yaml': 'resources: [../../outside, missing.yaml, ../plain]\n',
    'plain/cm.yaml': configMap('plain'),
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.lines, [
      'app/kustomization.yaml:1:13: -: resources[0]: "../../outside" leaves the repository',
      'app/kustomization.yaml:1:28: -: resources[1]: "missing.yaml" is not in the repository',
      'app/kustomization.yaml:1:42: -: resources[2]: "../plain" is a folder without a kustomization file',
    ]);
  } finally {
    repo.cleanup();
  }
});

test("kustomize's own error is shown with the folder built, at the entry it is about, in repository paths", async () => {
  if (await kustomizeMissing('kustomize error')) return;
  const repo = makeRepo({
    'apps/web/kustomization.yaml': 'resources: [web.yaml]\nconfigMapGenerator:\n- name: env\n  envs: [web.env]\n',
    'apps/web/web.yaml': deployment('web'),
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.is(r.issues.length, 1);
    const [issue] = r.issues;
    assert.equal([issue.file, issue.line, issue.column, issue.field], ['apps/web/kustomization.yaml', 4, 10, 'configMapGenerator[0].envs[0]'], 'at the entry kustomize could not read');
    assert.match(issue.message, /^(kubectl kustomize|kustomize build) apps\/web failed: .*web\.env/);
    assert.not.match(issue.message, /convergit-build-/, 'no temporary folder in the message');
    repo.write('apps/web/web.env', 'MODE=prod\n');
    const fixed = await loadAt(repo.dir, repo.commit('the env file'));
    assert.equal(fixed.lines, [], 'the non-YAML input is exported with the folder');
    assert.equal(fixed.names, ['ConfigMap/env-' + fixed.names[0].split('-').pop(), 'Deployment/web']);
  } finally {
    repo.cleanup();
  }
});

test('without kustomize or kubectl on PATH the commit is refused, saying what to install; plain YAML alone needs neither', async () => {
  const repo = makeRepo({ 'app/kustomization.yaml': 'resources: [web.yaml]\n', 'app/web.yaml': deployment('web'), 'plain/cm.yaml': configMap('plain') });
  try {
    const empty = tempDir('convergit-empty-path-');
    const builder = new Builder({ env: { PATH: empty } });
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { builder });
    assert.equal(r.lines, ['app/kustomization.yaml:1:1: -: -: cannot build app: neither kustomize nor kubectl is on PATH; install kubectl (it includes kustomize) or kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) and put it on PATH']);
    repo.remove('app');
    const plain = await loadAt(repo.dir, repo.commit('no kustomization'), { builder });
    assert.equal(plain.lines, []);
    assert.equal(plain.names, ['ConfigMap/plain']);
  } finally {
    repo.cleanup();
  }
});

test('an unchanged kustomization is not rebuilt on an unrelated commit; a change to its base rebuilds it', async () => {
  if (await kustomizeMissing('cache')) return;
  const repo = overlayRepo();
  try {
    const builder = new Builder();
    await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { builder });
    assert.equal(builder.stats, { built: 1, cached: 0, fromLast: 0 });
    repo.write('plain/cm.yaml', configMap('plain', 'a: "2"'));
    const second = await loadAt(repo.dir, repo.commit('unrelated'), { builder });
    assert.equal(second.lines, []);
    assert.equal(builder.stats, { built: 1, cached: 1, fromLast: 0 });
    assert.ok(second.names.includes('Deployment/prod-web'), 'the cached output still loads');
    repo.write('base/settings.yaml', configMap('settings', 'a: "2"'));
    const third = await loadAt(repo.dir, repo.commit('base'), { builder });
    assert.equal(builder.stats, { built: 2, cached: 1, fromLast: 0 });
    assert.is((third.objects.find((d) => d.object.metadata.name === 'prod-settings')!.object.data as Record<string, string>).a, '2');
  } finally {
    repo.cleanup();
  }
});

test('the cache folder answers a new process (a restarted serve, the next pre-commit run)', async () => {
  if (await kustomizeMissing('cache folder')) return;
  const repo = overlayRepo();
  try {
    const cacheDir = tempDir('convergit-builds-');
    const sha = repo.git('rev-parse', 'HEAD');
    const first = new Builder({ cacheDir });
    await loadAt(repo.dir, sha, { builder: first });
    const second = new Builder({ cacheDir });
    const r = await loadAt(repo.dir, sha, { builder: second });
    assert.equal(second.stats, { built: 0, cached: 1, fromLast: 0 });
    assert.ok(r.names.includes('Deployment/prod-web'));
    // plan --data-dir: a serve's folder (<data-dir>/builds) answers what the user's own lacks, and is not written.
    const dataDir = tempDir('convergit-serve-data-');
    renameSync(cacheDir, join(dataDir, 'builds'));
    const before = readdirSync(join(dataDir, 'builds'));
    const own = tempDir('convergit-builds-');
    const planner = new Builder({ cacheDir: own, alsoFrom: [dataDir] });
    const third = await loadAt(repo.dir, sha, { builder: planner });
    assert.equal(planner.stats, { built: 0, cached: 1, fromLast: 0 });
    assert.equal(third.names, r.names);
    assert.equal(readdirSync(join(dataDir, 'builds')), before);
    assert.equal(readdirSync(own), [], "theirs is not copied into ours");
    const alone = new Builder({ cacheDir: tempDir('convergit-builds-'), alsoFrom: [tempDir('convergit-other-')] });
    await loadAt(repo.dir, sha, { builder: alone });
    assert.equal(alone.stats, { built: 1, cached: 0, fromLast: 0 }, 'a folder without the build: built');
    // Another convergit's build (an upgraded one, or a serve still running the old one) is not this one's.
    const upgraded = new Builder({ alsoFrom: [dataDir], fingerprint: 'other code' });
    await loadAt(repo.dir, sha, { builder: upgraded });
    assert.equal(upgraded.stats, { built: 1, cached: 0, fromLast: 0 }, "another code's build: built again");
  } finally {
    repo.cleanup();
  }
});

test('Flux layout: --path clusters/prod builds a kustomization whose bases are outside --path', async () => {
  if (await kustomizeMissing('bases outside --path')) return;
  const repo = makeRepo({
    'apps/base/kustomization.yaml': 'resources: [web.yaml]\n',
    'apps/base/web.yaml': deployment('web'),
    'clusters/prod/kustomization.yaml': 'resources: [../../apps/base, ns.yaml]\nnamespace: prod\n',
    'clusters/prod/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n',
    'clusters/prod/notes.yaml': configMap('notes'),
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { path: 'clusters/prod' });
    assert.equal(r.lines, []);
    assert.equal(r.names, ['Deployment/web', 'Namespace/prod'], 'notes.yaml is not referenced by the kustomization, so it is not loaded (as Flux)');
    assert.is(r.objects.find((d) => d.object.kind === 'Deployment')!.object.metadata.namespace, 'prod');
  } finally {
    repo.cleanup();
  }
});

test('a kustomization nested in another folder that does not reference it is not built, and a warning says so', async () => {
  if (await kustomizeMissing('nested')) return;
  const repo = makeRepo({
    'apps/kustomization.yaml': 'resources: [web]\n',
    'apps/web/kustomization.yaml': 'resources: [web.yaml]\n',
    'apps/web/web.yaml': deployment('web'),
    'apps/db/kustomization.yaml': 'resources: [db.yaml]\n',
    'apps/db/db.yaml': configMap('db'),
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.names, ['Deployment/web']);
    assert.equal(r.issues.map((i) => i.severity), ['warning']);
    assert.equal(r.lines, ['apps/db/kustomization.yaml:1:1: -: -: not built: it is inside apps, whose kustomization does not reference it (only the outermost kustomization of a folder is built, as Flux does)']);
  } finally {
    repo.cleanup();
  }
});

test('kustomizations that reference each other are still built (kustomize reports the cycle); one used only by an unbuilt one is built alone', async () => {
  if (await kustomizeMissing('cycles')) return;
  const repo = makeRepo({
    'a/kustomization.yaml': 'resources: [../b]\n',
    'b/kustomization.yaml': 'resources: [../a]\n',
    'apps/kustomization.yaml': 'resources: []\n',
    'apps/db/kustomization.yaml': 'resources: [../../shared]\n',
    'shared/kustomization.yaml': 'resources: [cm.yaml]\n',
    'shared/cm.yaml': configMap('shared'),
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.names, ['ConfigMap/shared']);
    assert.equal(r.issues.map((i) => `${i.severity} ${i.file}`), ['error a/kustomization.yaml', 'warning apps/db/kustomization.yaml']);
    assert.match(r.issues[0].message, /cycle/i);
  } finally {
    repo.cleanup();
  }
});

test('origin annotations stay when the kustomization itself asks for them (buildMetadata: [originAnnotations])', async () => {
  if (await kustomizeMissing('origin annotations')) return;
  const repo = makeRepo({
    'app/kustomization.yaml': 'resources: [cm.yaml]\nbuildMetadata: [originAnnotations]\n',
    'app/cm.yaml': configMap('settings'),
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.lines, []);
    assert.is(r.objects[0].object.metadata.annotations?.['config.kubernetes.io/origin'], 'path: cm.yaml\n');
  } finally {
    repo.cleanup();
  }
});

test('a build printing more than the output bound is stopped with an error', async () => {
  if (await kustomizeMissing('output bound')) return;
  const repo = makeRepo({ 'app/kustomization.yaml': 'resources: [cm.yaml]\n', 'app/cm.yaml': configMap('settings', `a: "${'x'.repeat(4000)}"`) });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { builder: new Builder({ maxOutputBytes: 1000 }) });
    assert.equal(r.issues.map((i) => [i.file, i.message.replace(/^kubectl kustomize|^kustomize build/, 'K')]), [['app/kustomization.yaml', 'K app failed: the build printed more than 1000 bytes; stopped']]);
  } finally {
    repo.cleanup();
  }
});

test('absolute paths, symlinked bases and Helm charts are refused before kustomize runs', async () => {
  const repo = makeRepo({
    'app/kustomization.yaml': 'resources: [/etc/app, linked]\nhelmCharts:\n- name: web\n  repo: https://charts.example.com\n',
    'real/kustomization.yaml': 'resources: []\n',
  });
  try {
    repo.link('app/linked', '../real');
    const builder = new Builder();
    const r = await loadAt(repo.dir, repo.commit('link'), { builder });
    assert.equal(r.lines, [
      'app/kustomization.yaml:1:13: -: resources[0]: "/etc/app" is an absolute path; use a path relative to the kustomization',
      'app/kustomization.yaml:1:23: -: resources[1]: "linked" is a symbolic link; symlinks are refused in builds',
      'app/kustomization.yaml:2:1: -: helmCharts: Helm charts are not built (kustomize would need helm and the network); render the chart to YAML and commit that',
    ]);
    assert.ok(builder.stats.built <= 1, 'app was not built (real/, a folder of its own, may be)');
  } finally {
    repo.cleanup();
  }
});

test('a symlink inside the folder that points outside the repository is not read (kustomize\'s load restrictor)', async () => {
  if (await kustomizeMissing('symlink restrictor')) return;
  const repo = makeRepo({ 'app/kustomization.yaml': 'configMapGenerator:\n- name: leak\n  files: [secret]\n' });
  try {
    repo.link('app/secret', '/etc/hostname');
    const r = await loadAt(repo.dir, repo.commit('link out'));
    assert.is(r.objects.length, 0);
    assert.is(r.issues.length, 1);
    assert.is(r.issues[0].file, 'app/kustomization.yaml');
    assert.match(r.issues[0].message, /security; file '.*secret' is not in or below/);
  } finally {
    repo.cleanup();
  }
});

/** A folder with a `kustomize` that answers `version` and then runs `script` for a build. */
function fakeKustomize(script: string): string {
  const dir = tempDir('convergit-fake-kustomize-');
  writeFileSync(join(dir, 'kustomize'), `#!/bin/sh\nif [ "$1" = version ]; then echo v9.9.9; exit 0; fi\n${script}\n`);
  chmodSync(join(dir, 'kustomize'), 0o755);
  return dir;
}

test('a standalone kustomize on PATH is used before kubectl, and a build that does not finish in time is stopped', async () => {
  const repo = makeRepo({ 'app/kustomization.yaml': 'resources: []\n' });
  try {
    const builder = new Builder({ env: { PATH: `${fakeKustomize('exec sleep 60')}:${process.env.PATH}` }, timeoutMs: 500 });
    assert.equal(await builder.tool().then((t) => [t?.name, t?.version]), ['kustomize build', 'v9.9.9']);
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { builder });
    assert.equal(r.lines, ['app/kustomization.yaml:1:1: -: -: kustomize build app failed: the build took longer than 0.5 s; stopped']);
  } finally {
    repo.cleanup();
  }
});

test.run();
