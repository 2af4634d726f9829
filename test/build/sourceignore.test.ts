// `.sourceignore` as Flux's source-controller reads it: the matcher's rules, then real repositories.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRepo } from '../support/git-repo.ts';
import { existsSync, readdirSync } from 'node:fs';
import { SourceIgnore } from '../../src/build/source-ignore.ts';
import { configMap, deployment, kustomizeMissing, loadAt } from './helpers.ts';

test("Flux's default exclusions apply without any .sourceignore: CI configs, VCS files, images, archives", () => {
  const s = new SourceIgnore([]);
  for (const p of ['.github/workflows/ci.yml', '.gitlab-ci.yml', '.travis.yml', 'cloudbuild.yaml', 'apps/.sops.yaml', '.circleci/config.yml', 'docs/logo.png', 'dist/x.tar.gz']) {
    assert.ok(s.ignores(p), p);
  }
  for (const p of ['apps/web.yaml', 'ci.yml', 'apps/github/x.yaml']) assert.not.ok(s.ignores(p), p);
  // A path not as a tree gives it (empty segments): the same answer.
  for (const p of ['/.github/x.yaml', 'a//.git/x.yaml', 'apps/.sops.yaml/', '//cloudbuild.yaml']) assert.ok(s.ignores(p), p);
  for (const p of ['/apps/web.yaml', 'apps//web.yaml', '', '/']) assert.not.ok(s.ignores(p), p);
});

test("Flux's defaults decided by name (no .sourceignore) as the ignore library decides them (one with a comment only)", () => {
  const byName = new SourceIgnore([]);
  const byLibrary = new SourceIgnore([{ path: '.sourceignore', content: '# nothing but the defaults\n' }]);
  const names = ['a.yaml', '.git', '.GIT', '.github', '.Github', '.circleci', 'github', 'cloudbuild.yaml', 'CloudBuild.YAML',
    '.sops.yaml', '.flux.yaml', '.goreleaser.yml', '.travis.yml', '.gitlab-ci.yml', 'appveyor.yml', '.drone.yml',
    'codeship-services.yml', 'codeship-steps.yml', '.gitignore', '.gitmodules', '.gitattributes', 'img.JPG', 'a.jpeg',
    '.jpg', 'x.gif', 'x.png', 'x.wmv', 'x.flv', 'x.tar.gz', 'x.tar', 'x.gz', 'x.zip', 'x.zip.yaml', 'pic.jpeg.yaml',
    'cloudbuild.yml', 'x.travis.yml', 'travis.yml', 'git', '.gitx', 'Kustomization', '.sourceignore'];
  const paths = [...names, ...names.map((n) => `apps/${n}`), ...names.map((n) => `a/${n}/b.yaml`), ...names.map((n) => `${n}/x/c.yaml`)];
  // And every path of the corpus of real repositories, where it is.
  const corpus = new URL('../../../shared/corpus/', import.meta.url);
  if (existsSync(corpus)) paths.push(...readdirSync(corpus, { recursive: true }).map(String));
  let excluded = 0;
  for (const p of paths) for (const dir of [false, true]) {
    const want = byLibrary.ignores(p, dir);
    assert.is(byName.ignores(p, dir), want, `${p}${dir ? '/' : ''}`);
    if (want) excluded++;
  }
  assert.ok(excluded > 100, `${excluded} excluded: the check could fail`);
  // A deeper .sourceignore that lets a folder in does not let the root's defaults pass what is below it.
  const nested = { path: 'a/.sourceignore', content: '!.github/\n!*.png\n' };
  const nestedByName = new SourceIgnore([nested]);
  const nestedByLibrary = new SourceIgnore([nested, { path: '.sourceignore', content: '# nothing but the defaults\n' }]);
  for (const p of ['a/.github/x.yaml', 'a/b/.github/x.yaml', 'a/.github', 'a/x.png', 'a/x.png/y.yaml', 'a/.git/x.yaml', 'a/ok.yaml']) {
    for (const dir of [false, true]) assert.is(nestedByName.ignores(p, dir), nestedByLibrary.ignores(p, dir), `${p}${dir ? '/' : ''}`);
  }
  assert.ok(nestedByName.ignores('a/.github/x.yaml'), 'as git: nothing inside an excluded folder comes back');
});

test('gitignore syntax: folders, anchors, globs and negations; a folder excluded stays excluded whole', () => {
  const s = new SourceIgnore([{ path: '.sourceignore', content: '# comment\ndocs/\n/charts\n*.md\n!keep.md\nexamples/**/*.yaml\n' }]);
  assert.ok(s.ignores('docs/a.yaml'));
  assert.ok(s.ignores('apps/docs/a.yaml'), 'an unanchored folder pattern matches at any depth');
  assert.ok(s.ignores('charts/x/values.yaml'));
  assert.not.ok(s.ignores('apps/charts/x.yaml'), 'an anchored one only at the root');
  assert.ok(s.ignores('README.md'));
  assert.not.ok(s.ignores('keep.md'));
  assert.ok(s.ignores('examples/a/b.yaml'));
  assert.not.ok(s.ignores('apps/web.yaml'));
  const reinclude = new SourceIgnore([{ path: '.sourceignore', content: 'docs/\n!docs/keep.yaml\n' }]);
  assert.ok(reinclude.ignores('docs/keep.yaml'), 'as git: nothing inside an excluded folder comes back');
});

test("a subfolder's .sourceignore applies below it, over the root's; it can re-include what the root excludes", () => {
  const s = new SourceIgnore([
    { path: '.sourceignore', content: '*.test.yaml\n' },
    { path: 'apps/.sourceignore', content: 'fixtures/\n!web.test.yaml\n' },
  ]);
  assert.ok(s.ignores('apps/fixtures/a.yaml'));
  assert.not.ok(s.ignores('fixtures/a.yaml'), 'not outside its folder');
  assert.ok(s.ignores('db.test.yaml'));
  assert.ok(s.ignores('apps/db.test.yaml'));
  assert.not.ok(s.ignores('apps/web.test.yaml'), 'the deeper file decides');
});

test('a repository: .sourceignore at the root and in a subfolder keeps CI configs, charts and docs out of loading', async () => {
  const repo = makeRepo({
    '.sourceignore': 'docs/\ncharts/\n/apps/scratch.yaml\n',
    '.github/workflows/ci.yml': 'on: push\njobs: {}\n',
    'charts/web/templates/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n',
    'docs/example.yaml': 'kind: Example\n',
    'apps/web.yaml': deployment('web'),
    'apps/scratch.yaml': 'not: [valid',
    'apps/tests/.sourceignore': '*\n',
    'apps/tests/fixture.yaml': 'kind: Nope\n',
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.lines, []);
    assert.equal(r.names, ['Deployment/web']);
    const underPath = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { path: 'apps' });
    assert.equal(underPath.lines, [], "the root's .sourceignore applies with --path too");
    assert.equal(underPath.names, ['Deployment/web']);
    repo.remove('.sourceignore');
    const without = await loadAt(repo.dir, repo.commit('no .sourceignore'));
    assert.ok(without.lines.some((l) => l.startsWith('docs/example.yaml:')), without.lines.join('\n'));
    assert.not.ok(without.lines.some((l) => l.startsWith('.github/')), 'the defaults still keep CI configs out');
  } finally {
    repo.cleanup();
  }
});

test('kustomize does not see excluded files either, as in Flux: an excluded base is refused, an excluded patch is missing', async () => {
  if (await kustomizeMissing('sourceignore with kustomize')) return;
  const repo = makeRepo({
    '.sourceignore': 'legacy/\n*.local.yaml\n',
    'legacy/kustomization.yaml': 'resources: [cm.yaml]\n',
    'legacy/cm.yaml': configMap('legacy'),
    'app/kustomization.yaml': 'resources: [cm.yaml, ../legacy]\n',
    'app/cm.yaml': configMap('app'),
    'other/kustomization.yaml': 'resources: [cm.yaml]\npatches:\n- path: patch.local.yaml\n',
    'other/cm.yaml': configMap('other'),
    'other/patch.local.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: "2"}\n',
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.is(r.lines[0], 'app/kustomization.yaml:1:22: -: resources[1]: "../legacy" is excluded by .sourceignore');
    assert.is(r.issues.length, 2, r.lines.join('\n'));
    assert.is(r.issues[1].file, 'other/kustomization.yaml');
    assert.match(r.issues[1].message, /patch\.local\.yaml/);
  } finally {
    repo.cleanup();
  }
});

test('a base outside --path: the .sourceignore above it applies to what kustomize reads of it', async () => {
  if (await kustomizeMissing('sourceignore outside --path')) return;
  const repo = makeRepo({
    'apps/.sourceignore': '*.local.yaml\n',
    'apps/base/kustomization.yaml': 'configMapGenerator:\n- name: settings\n  files: [settings.local.yaml]\n',
    'apps/base/settings.local.yaml': 'debug: true\n',
    'clusters/prod/kustomization.yaml': 'resources: [../../apps/base]\n',
  });
  try {
    const r = await loadAt(repo.dir, repo.git('rev-parse', 'HEAD'), { path: 'clusters/prod' });
    assert.equal(r.issues.map((i) => `${i.file}:${i.line}:${i.column}`), ['apps/base/kustomization.yaml:3:11']);
    assert.match(r.issues[0].message, /clusters\/prod failed: .*settings\.local\.yaml/);
    repo.remove('apps/.sourceignore');
    const without = await loadAt(repo.dir, repo.commit('no .sourceignore'), { path: 'clusters/prod' });
    assert.equal(without.lines, []);
    assert.is(without.objects.length, 1);
  } finally {
    repo.cleanup();
  }
});

test.run();
