// Jobs and DaemonSets of the public corpus (read in place, committed unmodified) run on podman as on a cluster,
// their images pulled through --registry-mirror from a local registry holding busybox-static stand-ins under the
// corpus's exact names (these machines have no internet). Prints which corpus workloads cannot be verified, and why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, rmdirSync } from 'node:fs';
import { until } from '../support/wait.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { CORPUS } from '../corpus/corpus-load.ts';
import { corpusWorkloads } from '../support/corpus-standins.ts';
import { corpusServeMissing, startCorpusServe, type CorpusServe } from '../support/corpus-serve.ts';

/**
 * The corpus files committed (with their corpus paths), as upstream has them. Left out because a 1.32 cluster
 * refuses them too (and so does convergit, naming file and line): kubernetes-dashboard's nginx-daemon-daemon-set.yaml
 * (apps/v1 DaemonSet without spec.selector), sock-shop's fluentd-cr.yml and fluentd-crb.yml (rbac v1beta1, removed
 * in 1.22; the DaemonSet does not need them to run).
 */
const FILES = [
  'descheduler/kubernetes/base/kustomization.yaml',
  'descheduler/kubernetes/base/configmap.yaml',
  'descheduler/kubernetes/base/rbac.yaml',
  'descheduler/kubernetes/job/kustomization.yaml',
  'descheduler/kubernetes/job/job.yaml',
  'sock-shop/deploy/kubernetes/manifests-logging/fluentd-sa.yaml',
  'sock-shop/deploy/kubernetes/manifests-logging/fluentd-daemon.yml',
  'sock-shop/deploy/kubernetes/manifests-monitoring/00-monitoring-ns.yaml',
  'sock-shop/deploy/kubernetes/manifests-monitoring/24-prometheus-node-exporter-sa.yaml',
  'sock-shop/deploy/kubernetes/manifests-monitoring/25-prometheus-node-exporter-daemonset.yaml',
  'sock-shop/deploy/kubernetes/manifests-monitoring/26-prometheus-node-exporter-svc.yaml',
];
const IMAGES = ['registry.k8s.io/descheduler/descheduler:v0.36.0', 'weaveworksdemos/log-server', 'quay.io/prometheus/node-exporter:v1.1.2'];

const missing = corpusServeMissing();
if (missing) {
  console.log(`e2e corpus-run: skipped, ${missing}`);
} else {
  let corpus: CorpusServe, serve: ServeProcess, digests: Record<string, string> = {};
  /** The node's folders the fluentd hostPath makes when missing (as a runtime on a node does): removed after, if ours. */
  const made = ['/var/lib/docker/containers', '/var/lib/docker'].filter((d) => !existsSync(d));

  const get = async (path: string) => (await serve.get(path)).body;
  const podsOf = async (ns: string, selector: string) => (await get(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`)).items as any[];
  const logOf = async (ns: string, pod: string, container?: string) => (await serve.get(`/api/v1/namespaces/${ns}/pods/${pod}/log${container ? `?container=${container}` : ''}`)).text;
  const events = async (ns: string) => ((await get(`/api/v1/namespaces/${ns}/events`)).items as any[]).map((e) => `${e.involvedObject?.name} ${e.reason}: ${e.message}`);
  const explain = async (e: Error, ns: string) => new Error(`${e.message}\nevents in ${ns}: ${(await events(ns)).slice(-15).join('\n  ')}\nserve: ${serve.output().slice(-3000)}`);

  /** Waits until the DaemonSet has a ready pod on each node, as `kubectl rollout status` would; returns its pods. */
  const daemonSetReady = async (ns: string, name: string) => {
    const nodes = (await get('/api/v1/nodes')).items.length;
    await until(async () => {
      const s = (await get(`/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`))?.status;
      return s && s.desiredNumberScheduled === nodes && s.numberReady === nodes && s.updatedNumberScheduled === nodes && s.numberAvailable === nodes;
    }, `DaemonSet ${ns}/${name} ready on ${nodes} node(s)`, 120_000).catch(async (e) => { throw await explain(e, ns); });
    const ds = await get(`/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`);
    const selector = Object.entries(ds.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    return podsOf(ns, selector);
  };

  test.before(() => setUp().catch((e) => { console.error(`corpus-run: setting up failed: ${e?.stack ?? e}`); throw e; }));

  async function setUp() {
    // Which corpus workloads a stand-in cannot stand in for: a digest names one exact image.
    const pinned = corpusWorkloads(CORPUS).filter((w) => w.images.some((i) => i.includes('@sha256:')));
    console.log(`corpus-run: not verifiable here (${pinned.length}), their images are pinned by digest (@sha256:…) and no stand-in can have that digest:`);
    for (const w of pinned) console.log(`  ${w.file}: ${w.kind} ${w.name} (${w.images.filter((i) => i.includes('@sha256:')).join(', ')})`);
    corpus = await startCorpusServe({
      files: FILES, images: IMAGES, message: 'corpus Jobs and DaemonSets, unmodified', clusterCidr: '10.209.0.0/16',
      serveArgs: ['--allow-host-path', '/var/lib/docker/containers', '--allow-host-path', '/sys', '--allow-host-path', '/'],
    });
    ({ serve, digests } = corpus);
  }

  test.after(async () => {
    await corpus?.stop();
    for (const d of made) try { rmdirSync(d); } catch { /* not empty: someone else's now */ }
  });

  test('the commit applies whole: the kustomized descheduler Job, the DaemonSets, their ServiceAccounts and RBAC', async () => {
    const head = corpus.repo.git('rev-parse', 'HEAD');
    await until(async () => (await get('/status'))?.lastAppliedRevision === head, 'the commit applied', 60_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await get('/status'))}`); });
    assert.ok(await get('/api/v1/namespaces/kube-system/configmaps/descheduler-policy-configmap'));
    assert.ok(await get('/api/v1/namespaces/monitoring/serviceaccounts/node-exporter'));
  });

  test('descheduler Job (registry.k8s.io via the mirror): completes once, as uid 1000, having read its policy ConfigMap', async () => {
    const job = await until(async () => {
      const j = await get('/apis/batch/v1/namespaces/kube-system/jobs/descheduler-job');
      return j?.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') && j;
    }, 'descheduler-job Complete', 120_000).catch(async (e) => { throw await explain(e, 'kube-system'); });
    assert.is(job.status.succeeded, 1);
    assert.is(job.status.failed ?? 0, 0);
    const [pod] = await podsOf('kube-system', `job-name=descheduler-job`);
    assert.is(pod.status.phase, 'Succeeded');
    const cs = pod.status.containerStatuses[0];
    assert.is(cs.state.terminated.reason, 'Completed');
    // The image keeps its upstream name, and its digest is the stand-in's: pulled from the mirror.
    assert.is(cs.image, 'registry.k8s.io/descheduler/descheduler:v0.36.0');
    assert.is(cs.imageID, `registry.k8s.io/descheduler/descheduler@${digests['registry.k8s.io/descheduler/descheduler:v0.36.0']}`);
    const log = await logOf('kube-system', pod.metadata.name);
    assert.match(log, /descheduler stand-in v0\.36\.0 uid=1000 policy=\/policy-dir\/policy\.yaml profiles=1/);
    assert.match(log, /Running plugin LowNodeUtilization\n.*Running plugin RemoveDuplicates\n.*Running plugin RemovePodsViolatingInterPodAntiAffinity/);
    console.log(`corpus-run: descheduler-job log:\n${log.replace(/^/gm, '  ')}`);
  });

  test('sock-shop fluentd DaemonSet (selects beta.kubernetes.io/os, hostPath of the node\'s container logs): ready, its config read', async () => {
    const [pod, ...more] = await daemonSetReady('kube-system', 'fluentd');
    assert.is(more.length, 0);
    let last = '';
    const log = await until(async () => { last = await logOf('kube-system', pod.metadata.name); return /following/.test(last) && last; }, 'fluentd started', 15_000)
      .catch(async (e) => { throw new Error(`${e.message}; log: ${JSON.stringify(last)}; status: ${JSON.stringify((await get(`/api/v1/namespaces/kube-system/pods/${pod.metadata.name}`)).status)}`); });
    assert.match(log, /reading config file path="\/fluentd\/etc\/elk\.conf"/);
    console.log(`corpus-run: fluentd log:\n${log.replace(/^/gm, '  ')}`);
  });

  test('sock-shop node-exporter DaemonSet (quay.io, hostNetwork, hostPort 9100, as nobody): /metrics on the node\'s port 9100', async () => {
    const [pod, ...more] = await daemonSetReady('monitoring', 'node-exporter');
    assert.is(more.length, 0);
    assert.is(pod.status.containerStatuses[0].imageID, `quay.io/prometheus/node-exporter@${digests['quay.io/prometheus/node-exporter:v1.1.2']}`);
    const metrics = await until(async () => {
      const r = await fetch('http://127.0.0.1:9100/metrics').catch(() => undefined);
      return r?.status === 200 && r.text();
    }, 'node-exporter answering on the host\'s port 9100', 15_000);
    assert.match(metrics, /^node_exporter_build_info\{version="1\.1\.2"\} 1$/m);
    assert.match(metrics, /^node_filesystem_avail_bytes\{mountpoint="\/"\} [1-9]\d*$/m);
    assert.match(metrics, /^process_uid 65534$/m);
    const log = await logOf('monitoring', pod.metadata.name);
    assert.match(log, /Listening on" address=0\.0\.0\.0:9100/);
  });

  test.run();
}
