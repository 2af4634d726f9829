// `convergit serve`: watch a repository, apply each good commit to the store, serve the read-only API.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitSource } from '../source/git-source.ts';
import { seedRepository } from '../source/seed.ts';
import { openStore } from '../store/lowdb-store.ts';
import { Syncer } from '../sync/syncer.ts';
import { reachable, startApiServer } from '../api/server.ts';
import { formatIssue } from '../model/issue.ts';
import type { StatusReport } from '../sync/status.ts';
import { VERSION } from './version.ts';
import { followSuspension } from './suspend.ts';
import { startEngine, type Engine } from './engine.ts';
import { announceNodePorts } from './announce.ts';
import { followPodLog, readPodLog } from '../node/logs.ts';

export interface ServeOptions {
  repo?: string;
  branch: string;
  path: string;
  dataDir: string;
  host: string;
  port: number;
  interval: number;
  strict: boolean;
  example: boolean;
  retryBase: number;
  nodes: number;
  nodeName: string;
  nodeCpu?: string;
  nodeMemory?: string;
  nodePods?: number;
  nodeLabels: Record<string, string>;
  restartBackoff: number;
  restartBackoffMax: number;
}

const EXAMPLES = fileURLToPath(new URL('../../examples-repo', import.meta.url));
const log = (msg: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${msg}`);

export async function serve(opts: ServeOptions): Promise<void> {
  const dataDir = path.resolve(opts.dataDir);
  let repo = opts.repo;
  if (opts.example) {
    repo = path.join(dataDir, 'example-repo');
    const created = await seedRepository(EXAMPLES, repo, opts.branch);
    console.log(`${created ? 'Created' : 'Using'} the example repository at ${repo}`);
    console.log(`Deploy by committing to it:  cd ${repo} && $EDITOR … && git commit -am "my change"`);
  }
  if (!repo) throw new Error('--repo is required (a local path or an http(s) URL); or use --example');
  const repository = /^https?:\/\//.test(repo) ? repo : path.resolve(repo);

  const store = await openStore(dataDir);
  // Listen first: a port in use fails before anything starts watching or applying.
  const api = await startApiServer({
    store, host: opts.host, port: opts.port, repository, branch: opts.branch, version: VERSION,
    podLogs: (pod, o) => readPodLog(dataDir, pod, o),
    followPodLog: (pod, o, write, signal) => followPodLog(dataDir, pod, o, write, signal),
  }).catch(async (e) => { await store.close(); throw e; });
  const source = new GitSource({ repo: repository, branch: opts.branch, path: opts.path, dataDir, interval: opts.interval });
  await source.prepare().catch((e) => log(`source: ${(e as Error).message} (will keep retrying)`));
  let engine: Engine;
  try {
    engine = await startEngine({
      store, dataDir, gitdir: () => source.gitdir, host: opts.host, log,
      nodes: opts.nodes, nodeName: opts.nodeName, labels: opts.nodeLabels,
      capacity: { cpu: opts.nodeCpu, memory: opts.nodeMemory, pods: opts.nodePods },
      restartBackoff: { baseMs: opts.restartBackoff, maxMs: opts.restartBackoffMax },
    });
  } catch (e) {
    await api.close();
    await store.close();
    throw e;
  }
  const syncer = new Syncer(source, store, { repository, branch: opts.branch, path: opts.path, strict: opts.strict, retryBaseMs: opts.retryBase });
  syncer.onStatus(reportChanges());
  const stopFollowing = followSuspension(dataDir, 500, (suspended, reason) => {
    log(suspended ? `suspended${reason ? `: ${reason}` : ''}` : 'resumed');
    if (suspended) syncer.suspend(reason); else syncer.resume();
  });
  await syncer.start();
  console.log(`convergit ${VERSION} serving ${api.url}  (status page ${api.url}/, JSON ${api.url}/status)`);
  console.log(`watching ${repository} branch ${opts.branch}${opts.path ? ` path ${opts.path}` : ''}; data in ${dataDir}`);
  console.log(engine.nodeNames.length ? `node(s): ${engine.nodeNames.join(', ')}` : 'no nodes (--nodes 0): pods stay Pending');
  const stopAnnouncing = await announceNodePorts(store, reachable(opts.host), log);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    stopFollowing();
    stopAnnouncing();
    await syncer.stop();
    await engine.stop(); // stops every pod the graceful way: nothing is left running
    await api.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** Logs one line per sync outcome, not per status write. */
function reportChanges() {
  let last = '';
  return (s: StatusReport) => {
    const line = `${s.sync} ${s.head?.slice(0, 7) ?? ''} ${s.message}`;
    if (s.state === 'synced' || s.state === 'failed' || s.state === 'suspended') {
      if (line === last) return;
      last = line;
      log(`${s.sync}: ${s.message}${s.timings.applying !== undefined ? ` (${Object.values(s.timings).reduce((a, b) => a + b, 0)} ms)` : ''}`);
      for (const i of s.errors) log(`  ${formatIssue(i)}`);
    }
  };
}
