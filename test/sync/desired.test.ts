// Git images pinned to the tree of their directory, with real repositories and the real GitSource.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tmpdir } from 'node:os';
import { GitSource } from '../../src/source/git-source.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { formatIssue } from '../../src/model/issue.ts';
import { makeRepo } from '../support/git-repo.ts';

const deployment = (image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${image}
        command: [node, server.js]${extra}
`;

async function desiredAt(dir: string, sha: string) {
  const source = new GitSource({ repo: dir, branch: 'main', path: 'k8s', dataDir: tmpdir(), interval: 0 });
  await source.prepare();
  return loadDesired(await source.read(sha), source, { root: 'k8s' });
}
const imageOf = (r: Awaited<ReturnType<typeof desiredAt>>) => r.objects[0].object.spec.template.spec.containers[0].image as string;

test('git:<dir> is pinned to the directory tree: code changes change the image, a revert brings it back', async () => {
  const repo = makeRepo({ 'k8s/web.yaml': deployment('git:./apps/web/'), 'apps/web/server.js': 'v1', 'apps/other/x': '1' });
  try {
    const first = await desiredAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(first.issues, []);
    const v1 = imageOf(first);
    assert.match(v1, /^git:apps\/web@[0-9a-f]{40}$/);
    repo.write('apps/other/x', '2');
    assert.is(imageOf(await desiredAt(repo.dir, repo.commit('elsewhere'))), v1, 'other directories do not matter');
    repo.write('apps/web/server.js', 'v2');
    const v2 = imageOf(await desiredAt(repo.dir, repo.commit('v2')));
    assert.is.not(v2, v1);
    repo.write('apps/web/server.js', 'v1');
    assert.is(imageOf(await desiredAt(repo.dir, repo.commit('back'))), v1, 'same tree, same image');
  } finally {
    repo.cleanup();
  }
});

test('git images are pinned in every kind with a pod template: a CronJob\'s jobs, a DaemonSet, a Job', async () => {
  const template = (image: string) => `{spec: {restartPolicy: OnFailure, containers: [{name: c, image: "${image}", command: [node, x.js]}]}}`;
  const repo = makeRepo({
    'k8s/cron.yaml': `apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec: {schedule: "* * * * *", jobTemplate: {spec: {template: ${template('git:apps/job')}}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec: {template: ${template('git:apps/job')}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: "git:apps/job", command: [node, x.js]}]}}}
`,
    'apps/job/x.js': 'v1',
  });
  try {
    const r = await desiredAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.issues, []);
    const images = Object.fromEntries(r.objects.map((o) => {
      const spec = o.object.kind === 'CronJob' ? o.object.spec.jobTemplate.spec.template.spec : o.object.spec.template.spec;
      return [o.object.kind, spec.containers[0].image];
    }));
    const pinned = images.CronJob;
    assert.match(pinned, /^git:apps\/job@[0-9a-f]{40}$/);
    assert.equal(images, { CronJob: pinned, Job: pinned, DaemonSet: pinned });
  } finally {
    repo.cleanup();
  }
});

test('a missing directory or a path leaving the repository is an error at the image field', async () => {
  const side = `
      - name: side
        image: git:../secrets
        command: [node, side.js]`;
  const repo = makeRepo({ 'k8s/web.yaml': deployment('git:apps/nope', side), 'apps/web/server.js': 'v1' });
  try {
    const r = await desiredAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.issues.map(formatIssue), [
      `k8s/web.yaml:14:9: Deployment/web: spec.template.spec.containers[0].image: "git:apps/nope": no directory apps/nope in the repository at ${repo.git('rev-parse', 'HEAD').slice(0, 7)}`,
      'k8s/web.yaml:17:9: Deployment/web: spec.template.spec.containers[1].image: "git:../secrets": the directory must be a path inside the repository, like git:apps/web',
    ]);
  } finally {
    repo.cleanup();
  }
});

test('images pinned by hand and ordinary images are left as written', async () => {
  const pinned = `git:apps/web@${'a'.repeat(40)}`;
  const repo = makeRepo({ 'k8s/web.yaml': deployment(pinned) + '---\n' + deployment('busybox:1.36').replace('name: web\nspec', 'name: other\nspec') });
  try {
    const r = await desiredAt(repo.dir, repo.git('rev-parse', 'HEAD'));
    assert.equal(r.issues, []);
    assert.equal(r.objects.map((o) => o.object.spec.template.spec.containers[0].image), [pinned, 'busybox:1.36']);
  } finally {
    repo.cleanup();
  }
});

test.run();
