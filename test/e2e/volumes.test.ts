// Volumes end to end on the process runtime, one data folder: a configMap volume updated in the running pod, an emptyDir
// shared by two containers, a claim provisioned by local-path whose data survives a container restart, a rollout
// and a git revert, containers re-adopted in their mount namespaces after a restart of serve, and a hostPath
// outside --allow-host-path refused at validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

let repo: TestRepo, dataDir: string, serve: ServeProcess, mnt: string, allowed: string;

const configMap = (greeting: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {greeting: ${greeting}}
`;
const CLAIM = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Mi}}
`;
/** writer: counts its starts on the claim and copies the configMap's file into the shared emptyDir; reader prints it. */
const app = (version: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      terminationGracePeriodSeconds: 1
      volumes:
      - {name: conf, configMap: {name: conf}}
      - {name: data, persistentVolumeClaim: {claimName: data}}
      - {name: shared, emptyDir: {}}
      containers:
      - name: writer
        image: host
        command: [sh, -c, 'echo ${version} >> ${mnt}/data/boots; while true; do cat ${mnt}/conf/greeting > ${mnt}/shared/seen.tmp; mv ${mnt}/shared/seen.tmp ${mnt}/shared/seen; sleep 0.2; done']
        volumeMounts:
        - {name: conf, mountPath: ${mnt}/conf}
        - {name: data, mountPath: ${mnt}/data}
        - {name: shared, mountPath: ${mnt}/shared}
      - name: reader
        image: host
        command: [sh, -c, 'while true; do [ -f ${mnt}/shared/seen ] && echo "seen:$(cat ${mnt}/shared/seen)"; sleep 0.2; done']
        volumeMounts:
        - {name: shared, mountPath: ${mnt}/shared, readOnly: true}
`;

const ARGS = () => ['--repo', repo.dir, '--data-dir', dataDir, '--allow-host-path', allowed, '--restart-backoff', '200ms', '--restart-backoff-max', '1s'];
const status = async () => (await serve.get('/status')).body;
const applied = (sha: string) => until(async () => (await status()).lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`, 20_000);
const appPods = async () => ((await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dapp')).body.items as any[]).filter((p) => !p.metadata.deletionTimestamp);
const running = (p: any) => (p.status?.containerStatuses ?? []).length === 2 && p.status.containerStatuses.every((c: any) => c.state?.running);
const log = async (pod: string, container: string) => (await serve.get(`/api/v1/namespaces/default/pods/${pod}/log?container=${container}`)).text;
const claim = async () => (await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/data')).body;
const boots = async () => {
  const pv = (await serve.get(`/api/v1/persistentvolumes/${(await claim()).spec.volumeName}`)).body;
  return readFileSync(path.join(pv.spec.hostPath.path, 'boots'), 'utf8').trim().split('\n');
};
/** The one running pod of the app whose writer has recorded `version`. */
const podWith = (version: string) => until(async () => {
  const ps = await appPods();
  return ps.length === 1 && running(ps[0]) && (await boots().catch((): string[] => [])).includes(version) && ps[0];
}, `a running pod that wrote ${version}`, 30_000);

test.before(async () => {
  mnt = mkdtempSync(path.join(tmpdir(), 'convergit-mnt-'));
  allowed = mkdtempSync(path.join(tmpdir(), 'convergit-hostpath-'));
  repo = makeRepo({ 'conf.yaml': configMap('hello'), 'claim.yaml': CLAIM, 'app.yaml': app('v1') });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-volumes-'));
  serve = await startServe(ARGS());
});

test.after(async () => {
  await serve?.shutdown();
  repo?.cleanup();
  for (const d of [dataDir, mnt, allowed]) if (d) rmSync(d, { recursive: true, force: true });
});

test('local-path provisions the claim when its first pod is scheduled; two containers share an emptyDir fed from a configMap', async () => {
  const pod = await podWith('v1');
  const pvc = await claim();
  assert.is(pvc.status.phase, 'Bound');
  assert.is(pvc.status.capacity.storage, '10Mi');
  assert.is(pvc.metadata.annotations['volume.kubernetes.io/selected-node'], pod.spec.nodeName);
  const pv = (await serve.get(`/api/v1/persistentvolumes/${pvc.spec.volumeName}`)).body;
  assert.is(pv.status.phase, 'Bound');
  assert.is(pv.spec.claimRef.uid, pvc.metadata.uid);
  assert.is(pv.spec.storageClassName, 'local-path');
  assert.ok(pv.spec.hostPath.path.startsWith(path.join(dataDir, 'storage') + '/'), pv.spec.hostPath.path);
  const sc = (await serve.get('/apis/storage.k8s.io/v1/storageclasses/local-path')).body;
  assert.is(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
  await until(async () => (await log(pod.metadata.name, 'reader')).includes('seen:hello'), 'the reader to see the configMap through the emptyDir');
  // kubectl's columns for claims, volumes and classes.
  const kubectl = async (...args: string[]) => (await promisify(execFile)('kubectl', ['--server', serve.url, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } })).stdout;
  assert.match(await kubectl('get', 'pvc'), new RegExp(`data\\s+Bound\\s+${pv.metadata.name}\\s+10Mi\\s+RWO\\s+local-path`));
  assert.match(await kubectl('get', 'pv'), new RegExp(`${pv.metadata.name}\\s+10Mi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+local-path`));
  assert.match(await kubectl('get', 'sc'), /local-path \(default\)\s+rancher.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/);
  // The mount points exist only in the containers' mount namespaces, never on the host.
  for (const d of ['conf', 'data', 'shared']) assert.not.ok(existsSync(path.join(mnt, d)), `${d} was created on the host`);
});

test('a ConfigMap changed in git is seen by the running pod, atomically, without a restart', async () => {
  const [before] = await appPods();
  repo.write('conf.yaml', configMap('bonjour'));
  await applied(repo.commit('bonjour'));
  await until(async () => (await log(before.metadata.name, 'reader')).includes('seen:bonjour'), 'the reader to see the new greeting', 20_000);
  const [after] = await appPods();
  assert.is(after.metadata.uid, before.metadata.uid);
  assert.equal(after.status.containerStatuses.map((c: any) => c.restartCount), [0, 0]);
  // The reader never saw a half-written file: every line is one of the two greetings.
  const seen = (await log(before.metadata.name, 'reader')).split('\n').filter(Boolean);
  assert.ok(seen.every((l) => l === 'seen:hello' || l === 'seen:bonjour'), seen.join('|'));
});

test('the claim\'s data survives a container restart, a rollout and a git revert', async () => {
  const pod = (await appPods())[0];
  const writer = pod.status.containerStatuses.find((c: any) => c.name === 'writer');
  process.kill(Number(writer.containerID.slice('process://'.length)), 'SIGKILL');
  await until(async () => (await boots()).length === 2, 'the restarted writer to count its second start on the claim');
  const volumeName = (await claim()).spec.volumeName;
  repo.write('app.yaml', app('v2'));
  await applied(repo.commit('v2'));
  await podWith('v2');
  repo.git('revert', '--no-edit', 'HEAD');
  await applied(repo.git('rev-parse', 'HEAD'));
  await until(async () => (await boots()).length === 4, 'the reverted pod to start on the same claim');
  assert.equal(await boots(), ['v1', 'v1', 'v2', 'v1']);
  assert.is((await claim()).spec.volumeName, volumeName);
});

test('after a restart of serve the containers run on in their mount namespaces, re-adopted, and still get ConfigMap changes', async () => {
  // Its containers have started (the last test saw them write), and their status says so once their launch is over.
  const [before] = await until(async () => {
    const pods = await appPods();
    return pods.length === 1 && pods[0].status?.containerStatuses?.every((c: any) => c.state.running) && pods;
  }, 'the app pod Running', 20_000);
  const pids = before.status.containerStatuses.map((c: any) => c.containerID);
  await serve.stop();
  serve = await startServe(ARGS());
  repo.write('conf.yaml', configMap('hola'));
  await applied(repo.commit('hola'));
  await until(async () => (await log(before.metadata.name, 'reader')).includes('seen:hola'), 'the re-adopted reader to see the greeting changed after the restart', 20_000);
  const [after] = await appPods();
  assert.equal(after.status.containerStatuses.map((c: any) => c.containerID), pids);
  assert.equal(await boots(), ['v1', 'v1', 'v2', 'v1']);
});

test('a hostPath outside --allow-host-path is refused at validation with file, line and field; inside, it mounts', async () => {
  const pod = (host: string) => `apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: h
    hostPath: {path: ${host}, type: DirectoryOrCreate}
  containers:
  - name: c
    image: host
    command: [sh, -c, 'echo from-pod > ${mnt}/h/file; sleep 1000']
    volumeMounts: [{name: h, mountPath: ${mnt}/h}]
`;
  repo.write('host.yaml', pod('/etc'));
  const bad = repo.commit('hostPath /etc');
  const s = await until(async () => { const s = await status(); return s.lastAttemptedRevision === bad && s.sync === 'Failed' && s; }, 'the hostPath commit to fail');
  const err = s.errors.find((e: any) => e.file === 'host.yaml');
  assert.ok(err, JSON.stringify(s.errors));
  assert.equal([err.line, err.kind, err.name, err.field], [8, 'Pod', 'host', 'spec.volumes[0].hostPath.path']);
  assert.match(err.message, /"\/etc" is outside the host folders this server mounts.*--allow-host-path/);
  repo.write('host.yaml', pod(path.join(allowed, 'sub')));
  await applied(repo.commit('hostPath under the allowed folder'));
  await until(() => existsSync(path.join(allowed, 'sub', 'file')) && readFileSync(path.join(allowed, 'sub', 'file'), 'utf8') === 'from-pod\n', 'the pod to write into the host folder');
});

test.run();
