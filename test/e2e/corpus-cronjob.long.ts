// (npm run torture: minutes of wall clock) The descheduler CronJob of the public corpus, committed unmodified
// (schedule "*/2 * * * *", concurrencyPolicy Forbid), on podman with its image pulled through --registry-mirror
// from a local registry's stand-in: at two successive scheduled times it creates a Job named for the scheduled
// minute, whose pod completes, and the CronJob's status says so, as kube-controller-manager's does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { corpusServeMissing, startCorpusServe, type CorpusServe } from '../support/corpus-serve.ts';

const FILES = [
  'descheduler/kubernetes/base/kustomization.yaml',
  'descheduler/kubernetes/base/configmap.yaml',
  'descheduler/kubernetes/base/rbac.yaml',
  'descheduler/kubernetes/cronjob/kustomization.yaml',
  'descheduler/kubernetes/cronjob/cronjob.yaml',
];
const IMAGES = ['registry.k8s.io/descheduler/descheduler:v0.36.0'];

const missing = corpusServeMissing();
if (missing) {
  console.log(`e2e corpus-cronjob: skipped, ${missing}`);
} else {
  let corpus: CorpusServe, serve: ServeProcess;
  const get = async (path: string) => (await serve.get(path)).body;
  const NS = '/apis/batch/v1/namespaces/kube-system';

  test.before(async () => {
    corpus = await startCorpusServe({ files: FILES, images: IMAGES, message: 'descheduler CronJob, unmodified', clusterCidr: '10.208.0.0/16' });
    serve = corpus.serve;
  });

  test.after(async () => { await corpus?.stop(); });

  test('descheduler-cronjob: a Job per scheduled time (every 2 minutes), named for it, whose pod completes; status follows', async () => {
    const seen: string[] = [];
    for (let run = 1; run <= 2; run++) {
      // At most 2 minutes to the next even minute, plus the pull and the run on a busy machine.
      const job = await until(async () => {
        const items = ((await get(`${NS}/jobs`))?.items ?? []) as any[];
        return items.find((j) => !seen.includes(j.metadata.name) && j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True'));
      }, `scheduled Job #${run} of descheduler-cronjob Complete`, 200_000)
        .catch(async (e) => { throw new Error(`${e.message}; jobs: ${JSON.stringify(((await get(`${NS}/jobs`))?.items ?? []).map((j: any) => [j.metadata.name, j.status]))}\n${serve.output().slice(-2000)}`); });
      seen.push(job.metadata.name);
      const minute = Number(/^descheduler-cronjob-(\d+)$/.exec(job.metadata.name)?.[1]);
      assert.ok(minute > 0, job.metadata.name);
      assert.is(minute % 2, 0, 'scheduled on an even minute (*/2)');
      const scheduled = new Date(minute * 60_000).toISOString();
      assert.is(new Date(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']).toISOString(), scheduled);
      assert.equal(job.metadata.ownerReferences.map((o: any) => `${o.kind}/${o.name}/${o.controller}`), ['CronJob/descheduler-cronjob/true']);
      assert.is(job.status.succeeded, 1);
      const pods = (await get(`/api/v1/namespaces/kube-system/pods?labelSelector=${encodeURIComponent(`job-name=${job.metadata.name}`)}`)).items;
      assert.is(pods.length, 1);
      assert.is(pods[0].status.phase, 'Succeeded');
      const log = (await serve.get(`/api/v1/namespaces/kube-system/pods/${pods[0].metadata.name}/log`)).text;
      assert.match(log, /descheduler stand-in v0\.36\.0 uid=1000 policy=\/policy-dir\/policy\.yaml/);
      console.log(`corpus-cronjob: ${job.metadata.name} (scheduled ${scheduled}) completed; log:\n${log.replace(/^/gm, '  ')}`);
      const cj = await until(async () => {
        const c = await get(`${NS}/cronjobs/descheduler-cronjob`);
        return c?.status?.lastSuccessfulTime && new Date(c.status.lastScheduleTime) >= new Date(scheduled) && !(c.status.active ?? []).length && c;
      }, 'the CronJob\'s status to show the run', 30_000);
      assert.ok(new Date(cj.status.lastSuccessfulTime) >= new Date(scheduled));
    }
    const [a, b] = seen.map((n) => Number(n.split('-').pop()));
    assert.is(b - a, 2, 'successive schedules, none skipped or doubled');
  });

  test.run();
}
