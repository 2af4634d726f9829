// `npm run bench`: figures and ratios for the promises convergit makes. Not a test: nothing here asserts a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { makePlan } from '../../src/plan/plan.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { workloads } from './workloads.ts';
import { statefulSetBench } from './statefulset.ts';
import { jobBench } from './job.ts';
import { review } from './review.ts';
import { kindsBench } from './kinds.ts';
import { hollowScale } from './hollow.ts';
import { schedulerThroughput } from './scheduler-throughput.ts';
import { podStartup } from './pod-start.ts';
import { persistBench } from './persist.ts';
import { syncPersistBench } from './sync-persist.ts';
import { listBench } from './list.ts';
import { crashConvergence } from './crash-convergence.ts';
import { getUnderChurn } from './get-under-churn.ts';
import { startupBench } from './startup.ts';
import { scale10kBench } from './scale10k.ts';
import { start10kBench } from './start10k.ts';
import { mem10kBench } from './mem10k.ts';
import { paceLine } from './pace.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n: number) => `${n.toFixed(1)} ms`;
const cm = (name: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

async function commitToApplied(runs = 9) {
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++) files[`deploy/team-${i % 5}/cm-${i}.yaml`] = cm(`cm-${i}`, 0);
  const repo = makeRepo(files);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir]);
  const times: number[] = [];
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 20_000);
    for (let r = 1; r <= runs; r++) {
      repo.write('deploy/team-0/cm-0.yaml', cm('cm-0', r));
      const t0 = performance.now();
      const sha = repo.commit(`bench ${r}`);
      await until(async () => (await fetch(`${serve.url}/status`).then((x) => x.json()) as any).lastAppliedRevision === sha, 'applied', 20_000);
      times.push(performance.now() - t0);
    }
  } finally {
    await serve.shutdown();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const m = median(times);
  console.log(`commit → applied (50 objects, 1 changed), median of ${runs}: ${ms(m)} (min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))})`);
  console.log(`  vs Argo CD's default 3-minute poll: ${(180_000 / m).toFixed(0)}× sooner; vs Flux's 1-minute default: ${(60_000 / m).toFixed(0)}×`);
}

async function incrementalRead() {
  const files: Record<string, string> = {};
  for (let i = 0; i < 1000; i++) files[`deploy/app-${i % 20}/sub-${i % 7}/cm-${i}.yaml`] = cm(`cm-${i}`, 0);
  const repo = makeRepo(files);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-'));
  try {
    const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir, interval: 0 });
    await source.prepare();
    const time = async (sha: string) => {
      const before = { ...source.stats };
      const t0 = performance.now();
      await source.read(sha);
      return { ms: performance.now() - t0, blobs: source.stats.blobsRead - before.blobsRead, trees: source.stats.treesRead - before.treesRead };
    };
    const full = await time(await source.head());
    repo.write('README.md', 'outside --path\n');
    const outside = await time(repo.commit('outside'));
    repo.write('deploy/app-3/sub-3/cm-3.yaml', cm('cm-3', 1));
    const one = await time(repo.commit('one file'));
    console.log(`read 1000 manifests, first time: ${ms(full.ms)} (${full.blobs} blobs, ${full.trees} trees)`);
    console.log(`  commit outside --path: ${ms(outside.ms)} (${outside.blobs} blobs, ${outside.trees} trees), ${(full.ms / outside.ms).toFixed(0)}× cheaper`);
    console.log(`  commit touching one file: ${ms(one.ms)} (${one.blobs} blob, ${one.trees} trees), ${(full.ms / one.ms).toFixed(0)}× cheaper`);
  } finally {
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function planUnchanged() {
  const objs: KubeObject[] = [];
  for (let i = 0; i < 2000; i++) {
    objs.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `d${i}`, namespace: 'default', labels: { app: `d${i}` } },
      spec: { replicas: 2, selector: { matchLabels: { app: `d${i}` } }, template: { metadata: { labels: { app: `d${i}` } }, spec: { containers: [{ name: 'c', image: 'x', env: Array.from({ length: 10 }, (_, j) => ({ name: `E${j}`, value: `${j}` })) }] } } } });
  }
  const live = structuredClone(objs);
  const inventory = objs.map((o) => `apps/v1/Deployment/default/${o.metadata.name}`);
  const t0 = performance.now();
  const plan = makePlan({ desired: objs, live, inventory });
  const t = performance.now() - t0;
  live[5].spec.template.spec.containers[0].env.reverse();
  const t1 = performance.now();
  const changed = makePlan({ desired: objs, live, inventory });
  console.log(`plan 2000 unchanged Deployments: ${ms(t)} (${plan.unchanged} unchanged); with one env list reordered: ${ms(performance.now() - t1)} (${changed.update} update)`);
}

// `npm run bench -- hollow list` runs only the sections whose names contain one of the words given.
const only = process.argv.slice(2);
const sections: [string, () => unknown][] = [
  ['kinds', kindsBench],
  ['persist', persistBench],
  ['sync-persist', syncPersistBench],
  ['list', listBench],
  ['commit', commitToApplied],
  ['incremental-read', incrementalRead],
  ['plan', planUnchanged],
  ['workloads', workloads],
  ['statefulset', statefulSetBench],
  ['job', jobBench],
  ['review', review],
  ['pod-start', podStartup],
  ['startup', startupBench],
  ['scale10k', scale10kBench],
  ['start10k', start10kBench],
  ['mem10k', mem10kBench],
  ['scheduler', schedulerThroughput],
  ['crash-convergence', crashConvergence],
  ['get-under-churn', getUnderChurn],
  // Last: the longest (minutes); HOLLOW_NODES and HOLLOW_PODS_PER_NODE shrink them. The same with a Service in front
  // of each Deployment, as apps have: without them the bench hid an Endpoints fan-out to every node.
  ['hollow', () => hollowScale()],
  ['hollow-services', () => hollowScale(undefined, undefined, true)],
];
for (const [name, run] of sections) {
  if (only.length && !only.some((o) => name.includes(o))) continue;
  console.log(`[${name}] ${paceLine()}`);
  await run();
}
