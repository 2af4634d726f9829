import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRepo } from '../support/git-repo.ts';
import { sourceFor } from './helpers.ts';

const files = {
  'apps/web/deployment.yaml': 'kind: Deployment\n',
  'apps/web/service.yml': 'kind: Service\n',
  'apps/web/README.md': '# not a manifest\n',
  'apps/db/statefulset.yaml': 'kind: StatefulSet\n',
  'infra/namespace.yaml': 'kind: Namespace\n',
  'notes.txt': 'hello\n',
  'Chart.YAML.bak': 'no\n',
};

test('reads a working-tree repository: metadata and YAML files, sorted, non-YAML left out', async () => {
  const repo = makeRepo(files, { message: 'first manifests\n\nwith a body' });
  try {
    const source = sourceFor(repo.dir);
    assert.is(source.remote, false);
    await source.prepare();
    const sha = await source.head();
    assert.is(sha, repo.git('rev-parse', 'main'));
    const rev = await source.read(sha);
    assert.is(rev.sha, sha);
    assert.is(rev.tree, repo.git('rev-parse', 'main^{tree}'));
    assert.is(rev.message, 'first manifests\n\nwith a body');
    assert.equal(rev.author, { name: 'Test Author', email: 'test@example.com' });
    assert.is(rev.commitTime, new Date(Number(repo.git('log', '-1', '--format=%ct')) * 1000).toISOString());
    assert.equal(rev.files.map((f) => f.path), [
      'apps/db/statefulset.yaml',
      'apps/web/deployment.yaml',
      'apps/web/service.yml',
      'infra/namespace.yaml',
    ]);
    const dep = rev.files[1];
    assert.equal(dep, { path: 'apps/web/deployment.yaml', oid: repo.git('rev-parse', 'main:apps/web/deployment.yaml'), symlink: false, content: 'kind: Deployment\n' });
  } finally {
    repo.cleanup();
  }
});

test('reads a bare repository the same way', async () => {
  const repo = makeRepo(files, { bare: true });
  try {
    const source = sourceFor(repo.dir);
    await source.prepare();
    assert.is(source.gitdir, repo.dir);
    const rev = await source.read(await source.head());
    assert.is(rev.sha, repo.git('rev-parse', 'main'));
    assert.is(rev.files.length, 4);
  } finally {
    repo.cleanup();
  }
});

test('path keeps only the files under it (repo-relative paths), and tree is the tree at path', async () => {
  const repo = makeRepo(files);
  try {
    for (const path of ['apps', 'apps/', './apps', '/apps']) {
      const rev = await sourceFor(repo.dir, { path }).read(repo.git('rev-parse', 'main'));
      assert.equal(rev.files.map((f) => f.path), ['apps/db/statefulset.yaml', 'apps/web/deployment.yaml', 'apps/web/service.yml'], path);
      assert.is(rev.tree, repo.git('rev-parse', 'main:apps'));
    }
    const web = await sourceFor(repo.dir, { path: 'apps/web' }).read(repo.git('rev-parse', 'main'));
    assert.equal(web.files.map((f) => f.path), ['apps/web/deployment.yaml', 'apps/web/service.yml']);
  } finally {
    repo.cleanup();
  }
});

test('a symlink is flagged, its content is the link target', async () => {
  const repo = makeRepo({ 'base/real.yaml': 'kind: ConfigMap\n' });
  repo.link('apps/linked.yaml', '../base/real.yaml');
  repo.link('apps/dir-link', '../base');
  const sha = repo.commit('links');
  try {
    const rev = await sourceFor(repo.dir).read(sha);
    const linked = rev.files.find((f) => f.path === 'apps/linked.yaml');
    assert.equal(linked && { symlink: linked.symlink, content: linked.content }, { symlink: true, content: '../base/real.yaml' });
    assert.is(rev.files.find((f) => f.path === 'base/real.yaml')?.symlink, false);
    assert.is(rev.files.length, 2, 'a symlink to a folder is not followed');
  } finally {
    repo.cleanup();
  }
});

test('an empty folder at path reads as no files; a file: URL is a local repository', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n', 'docs/x.md': 'x\n' });
  try {
    const source = sourceFor(`file://${repo.dir}`, { path: 'docs' });
    assert.is(source.remote, false);
    const rev = await source.read(await source.head());
    assert.equal(rev.files, []);
  } finally {
    repo.cleanup();
  }
});

test.run();
