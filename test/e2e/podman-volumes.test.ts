// Volumes on podman, one serve: a busybox pod's containers get a configMap volume (updated in the running pod when
// git changes the ConfigMap), an emptyDir they share, and a claim provisioned by local-path whose data outlives a
// container restart. The volumes are bind mounts of the node's folders into the containers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing, removeInstance, removeLeftoverNetworks } from '../support/podman.ts';
import { pushBusyboxImage, registryMissing, removeImages, startRegistry, type Registry } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const missing = podmanMissing() ?? registryMissing();
if (missing) {
  console.log(`e2e podman volumes: skipped, ${missing}`);
} else {
  let registry: Registry, repo: TestRepo, dataDir: string, serve: ServeProcess;

  const configMap = (greeting: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {greeting: ${greeting}}
`;
  const app = (image: string) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Mi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: box}
spec:
  replicas: 1
  selector: {matchLabels: {app: box}}
  template:
    metadata: {labels: {app: box}}
    spec:
      terminationGracePeriodSeconds: 1
      volumes:
      - {name: conf, configMap: {name: conf, items: [{key: greeting, path: greeting.txt}]}}
      - {name: data, persistentVolumeClaim: {claimName: data}}
      - {name: shared, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
      containers:
      - name: writer
        image: ${image}
        # The first instance exits after counting its start on the claim; the restarted one finds the count and stays.
        command: [sh, -c, 'echo boot >> /data/boots; [ $(wc -l < /data/boots) -ge 2 ] || exit 1; while true; do cp /conf/greeting.txt /shared/seen.tmp && mv /shared/seen.tmp /shared/seen; sleep 0.2; done']
        volumeMounts:
        - {name: conf, mountPath: /conf}
        - {name: data, mountPath: /data}
        - {name: shared, mountPath: /shared}
      - name: reader
        image: ${image}
        command: [sh, -c, 'while true; do [ -f /shared/seen ] && echo "seen:$(cat /shared/seen)"; sleep 0.2; done']
        volumeMounts:
        - {name: shared, mountPath: /shared, readOnly: true}
`;
  const pods = async () => (await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dbox')).body.items as any[];
  const log = async (pod: string, container: string) => (await serve.get(`/api/v1/namespaces/default/pods/${pod}/log?container=${container}`)).text;
  const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`, 20_000);

  test.before(async () => {
    removeLeftoverNetworks('10-251-');
    registry = await startRegistry();
    pushBusyboxImage(`${registry.host}/box:1`, {});
    repo = makeRepo({ 'conf.yaml': configMap('hello'), 'app.yaml': app(`${registry.host}/box:1`) });
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-volumes-'));
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', '10.251.0.0/16',
      '--restart-backoff', '200ms', '--restart-backoff-max', '1s']);
  });

  test.after(async () => {
    await serve?.stop();
    removeInstance(dataDir);
    if (registry) removeImages(registry.host);
    await registry?.stop();
    repo?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('configMap, memory emptyDir and a claim mounted into busybox containers; the claim keeps data across a restart; a ConfigMap change reaches the running pod', async () => {
    const pod = await until(async () => {
      const [p] = await pods();
      return p && (await log(p.metadata.name, 'reader').catch(() => '')).includes('seen:hello') && p;
    }, 'the reader to see the greeting through the shared emptyDir', 90_000);
    // The status follows the restart the reader already shows.
    await until(async () => (await pods())[0]?.status?.containerStatuses?.find((c: any) => c.name === 'writer')?.restartCount === 1, 'the writer\'s restart in the status');
    const pvc = (await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/data')).body;
    const pv = (await serve.get(`/api/v1/persistentvolumes/${pvc.spec.volumeName}`)).body;
    assert.is(readFileSync(join(pv.spec.hostPath.path, 'boots'), 'utf8'), 'boot\nboot\n');
    repo.write('conf.yaml', configMap('bonjour'));
    await applied(repo.commit('bonjour'));
    await until(async () => (await log(pod.metadata.name, 'reader')).includes('seen:bonjour'), 'the reader to see the new greeting', 30_000);
    const [after] = await pods();
    assert.is(after.metadata.uid, pod.metadata.uid);
    assert.equal(after.status.containerStatuses.map((c: any) => c.restartCount).sort(), [0, 1]);
  });

  test.run();
}
