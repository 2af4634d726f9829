// `convergit serve`: watch a repository, apply each good commit to the store, serve the read-only API.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitSource } from '../source/git-source.ts';
import { seedRepository } from '../source/seed.ts';
import { openStore } from '../store/lowdb-store.ts';
import { DEFAULT_TOLERATION_SECONDS, defaultTolerationSecondsAdmission } from '../model/default-tolerations.ts';
import { podDefaultsAdmission } from '../manifests/defaults.ts';
import { serviceAccountAdmission } from '../model/service-account-admission.ts';
import { Syncer } from '../sync/syncer.ts';
import { Builder } from '../build/builder.ts';
import { dataDirBuildCacheDir, dataDirLoadCacheDir } from '../build/cache-dir.ts';
import { Preload } from '../manifests/load-manifests.ts';
import { reachable, startApiServer } from '../api/server.ts';
import { formatIssue } from '../model/issue.ts';
import type { StatusReport } from '../sync/status.ts';
import { VERSION } from './version.ts';
import { followSuspension } from './suspend.ts';
import { followNodeRequests } from './drain.ts';
import { announceNodePorts } from './announce.ts';
import { followPodLog, readPodLog } from '../node/logs.ts';
import { planRevision } from '../review/plan-revision.ts';
import { liveFromStore } from '../review/live-sources.ts';
import { createBuiltinNamespaces } from './builtin-namespaces.ts';
import { createBuiltinStorageClass } from './builtin-storage-class.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { loadApiToken } from './api-token.ts';
import { apiCertificate } from './api-certificate.ts';
import { isLoopbackHost } from '../api/auth.ts';
import { blocksDir, reserveAddressBlocks } from './address-blocks.ts';
import { recordedRuntime } from './runtime-choice.ts';
import { startTimings, type StartTimings } from './start-timings.ts';
import { saveCodeCacheSoon } from './code-cache.ts';
import { restoreInlining } from './v8-flags.ts';
import { raiseLoopPriority } from './loop-priority.ts';
import { holdHeapSmallWhileStarting, type StartHeap } from './start-heap.ts';
import { governHeapGrowth } from './heap-growth.ts';
import { BUSY_STATES } from '../sync/sync.machine.ts';
import type { Taint } from '../model/taints.ts';
import type { RegistryMirror } from '../node/runtime/podman/config.ts';

export interface ServeOptions {
  repo?: string;
  branch: string;
  path: string;
  dataDir: string;
  host: string;
  port: number;
  /** --token-file: the API's bearer token (default: $CONVERGIT_API_TOKEN, else <data-dir>/token, generated once). */
  tokenFile?: string;
  interval: number;
  strict: boolean;
  /** --allow-host-path: host folders hostPath volumes may mount. */
  allowHostPath?: string[];
  maxManifestFiles?: number;
  /** --storage-dir: where the local-path provisioner keeps volumes (default <data-dir>/storage). */
  storageDir?: string;
  example: boolean;
  retryBase: number;
  nodes: number;
  nodeName: string;
  nodeCpu?: string;
  nodeMemory?: string;
  nodePods?: number;
  nodeLabels: Record<string, string>;
  nodeTaints?: Taint[];
  nodeMonitorGracePeriod?: number;
  endpointUpdatesBatchPeriod?: number;
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** --label-node and --taint-node: per node name, on top of the above. */
  labelNode?: Record<string, Record<string, string>[]>;
  taintNode?: Record<string, Taint[][]>;
  restartBackoff: number;
  restartBackoffMax: number;
  runtime?: 'podman' | 'process';
  clusterCidr?: string;
  serviceCidr?: string;
  gitImageBase?: string;
  allowPrivileged?: boolean;
  podPidsLimit?: number;
  /** --registry-mirror, repeatable. */
  registryMirror?: RegistryMirror[];
  metricResolution: number;
  ingressPort?: number;
  ingressTlsPort?: number;
  /** Container log rotation (kubelet's flags of the same names). */
  containerLogMaxSize: number;
  containerLogMaxFiles: number;
  containerLogMonitorInterval: number;
  /** podman image GC (kubelet's flags of the same names). */
  imageGcHighThreshold: number;
  imageGcLowThreshold: number;
  imageMinimumGcAge: number;
  /** --hollow: pods run on the hollow runtime, each container started after this many ms. */
  hollow?: boolean;
  hollowStartDelay?: number;
  /** --loop-nice: the event-loop thread's nice value, when serve may raise it (loop-priority.ts). */
  loopNice?: number;
  /** --pods-cpu-shares: the process runtime's containers' cgroup weight (pods-cgroup.ts); 0: none. */
  podsCpuShares?: number;
}

const EXAMPLES = fileURLToPath(new URL('../../examples-repo', import.meta.url));
/**
 * Log lines are written together once per turn of the event loop: stdout to a pipe is written synchronously, and a
 * first sync of 10,000 objects logs thousands of lines (a ClusterIP and a proxy port per Service), one system
 * call each. `print` writes what is pending first, so lines keep their order.
 */
let pending: string[] = [];
const flushLog = () => {
  if (!pending.length) return;
  const lines = pending;
  pending = [];
  process.stdout.write(`${lines.join('\n')}\n`);
};
process.on('exit', flushLog);
const log = (msg: string) => {
  if (!pending.length) setImmediate(flushLog);
  pending.push(`${new Date().toISOString().slice(11, 23)} ${msg}`);
};
const print = (line: string) => {
  flushLog();
  console.log(line);
};

export async function serve(opts: ServeOptions): Promise<void> {
  const timings = startTimings();
  timings.mark('modules');
  const dataDir = path.resolve(opts.dataDir);
  // First of all: a second serve on this folder must not touch it (not even seed the example or read the state).
  const lock = lockDataDir(dataDir, 'serve');
  // Held small while starting; then V8 may grow the heap its own way only under sustained load (heap-growth.ts).
  const heap = holdHeapSmallWhileStarting({ log, onRelease: () => { if (process.env.CONVERGIT_HEAP_GROWTH !== 'free') governHeapGrowth(); } });
  try {
    timings.mark('lock');
    await serveLocked(opts, dataDir, lock, timings, heap);
  } catch (e) {
    heap.stop();
    lock.release();
    throw e;
  }
}

async function serveLocked(opts: ServeOptions, dataDir: string, lock: DataDirLock, timings: StartTimings, heap: StartHeap): Promise<void> {
  // Not awaited: the start goes on meanwhile (what it starts before inherits nothing either way).
  void raiseLoopPriority(opts.loopNice ?? -5).then((r) => {
    if ('nice' in r) log(`priority: serve runs at nice ${r.nice}; what it starts, at its own`);
    else if (r.unchanged.startsWith('chrt')) log(`priority: left as it is: ${r.unchanged}`); // not the usual "may not" of a user
  }, (e) => log(`priority: left as it is: ${(e as Error).message}`));
  let repo = opts.repo;
  if (opts.example) {
    repo = path.join(dataDir, 'example-repo');
    const created = await seedRepository(EXAMPLES, repo, opts.branch);
    print(`${created ? 'Created' : 'Using'} the example repository at ${repo}`);
    print(`Deploy by committing to it:  cd ${repo} && $EDITOR … && git commit -am "my change"`);
  }
  if (!repo) throw new Error('--repo is required (a local path or an http(s) URL); or use --example');
  const repository = /^https?:\/\//.test(repo) ? repo : path.resolve(repo);

  // The API server's Pod defaults, its ServiceAccount and DefaultTolerationSeconds admission, written into every pod created.
  const store = await openStore(dataDir, { admit: [podDefaultsAdmission, serviceAccountAdmission, defaultTolerationSecondsAdmission({
    notReady: opts.defaultNotReadyTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS.notReady,
    unreachable: opts.defaultUnreachableTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS.unreachable,
  })] });
  await createBuiltinNamespaces(store);
  await createBuiltinStorageClass(store);
  timings.mark('store');
  // Each part started registers how to stop it; a signal at any point stops what has started, last first.
  const started: (() => Promise<void> | void)[] = [() => lock.release(), () => store.close()];
  let stopping = false;
  let ready = false;
  const stopAll = async (code: number) => {
    for (const stop of started.reverse()) await stop();
    process.exit(code);
  };
  const onSignal = (signal: string) => {
    if (stopping) {
      log(`${signal} again: exiting now; the pods keep running and the next serve re-adopts them`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: shutting down (again to exit at once)`);
    if (ready) void stopAll(0);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  /** Start-up goes on only while no signal came; otherwise it unwinds what it has started. */
  const proceed = async () => { if (stopping) await stopAll(0); };

  // Pod and Service address blocks no other data folder on this machine holds (the flags', when given): asked for
  // now and waited for before the engine, so the machine-wide lock and files are not one more step of the start.
  // The family of the runtime the pods run on: the flag's, else the one this folder's pods already run on (without
  // it a restart took the process runtime's blocks for running podman pods, and every address changed under them).
  let runtimeName: string | undefined = opts.runtime;
  try { runtimeName ??= recordedRuntime(dataDir)?.runtime; } catch { /* a bad record: the runtime choice says so */ }
  // A fresh folder without the flag learns its runtime only when the engine chooses it: its blocks are asked for then.
  const family = (name: string | undefined) => (name === 'podman' && !opts.hollow ? 'podman' : 'process');
  const reserve = (name: string | undefined) => reserveAddressBlocks(dataDir, family(name), { clusterCIDR: opts.clusterCidr, serviceCIDR: opts.serviceCidr });
  const addressBlocks = async (name: string) => {
    const blocks = await (reserving ?? reserve(name));
    log(`addresses: pods from ${blocks.clusterCIDR}, Services from ${blocks.serviceCIDR} (reserved in ${blocksDir(family(name))})`);
    return blocks;
  };
  const reserving = opts.hollow || runtimeName ? reserve(runtimeName) : undefined;
  reserving?.catch(() => {}); // a refusal is thrown where it is awaited
  try {
    const source = new GitSource({ repo: repository, branch: opts.branch, path: opts.path, dataDir, interval: opts.interval, maxManifestFiles: opts.maxManifestFiles });
    // One build cache for the sync loop and GET /plan: a plan of a branch reuses what the sync built.
    // Loaded files are written to the load cache after the sync that loaded them (a cold start's are ~1 s of CPU).
    const builder = new Builder({ cacheDir: dataDirBuildCacheDir(dataDir), loadCacheDir: dataDirLoadCacheDir(dataDir), loadCacheWriteDelayMs: 5000 });
    started.push(() => builder.close());
    let apiUrl = '';
    const token = loadApiToken(dataDir, opts.tokenFile);
    // Beyond loopback: the token is required, and so TLS (a token never crosses a network in clear).
    const tls = isLoopbackHost(opts.host) ? undefined : await apiCertificate(dataDir, opts.host);
    // A local repository's branch head is read (only read: nothing is watched or applied) while the API's front
    // thread starts, ~0.15 s in which this thread would wait, its files handed to the loader's parse workers where
    // the machine has cores for them, as the sync's own read would: the first sync finds it read. A remote's clone
    // waits for the port, as before.
    const preparing = source.remote ? undefined : source.prepare();
    const warming = preparing?.then(() => warmRead(source, builder, opts), () => {});
    // Listen first: a port in use fails before anything starts watching or applying.
    const api = await startApiServer({
      store, host: opts.host, port: opts.port, token: token.token, tls, repository, branch: opts.branch, version: VERSION,
      podLogs: (pod, o) => readPodLog(dataDir, pod, o),
      followPodLog: (pod, o, write, signal) => followPodLog(dataDir, pod, o, write, signal),
      plan: async (ref) => {
        if (source.remote) await source.fetch(); // the pull request's branch as upstream has it now
        return planRevision(source, { ref, path: opts.path, strict: opts.strict, allowHostPath: opts.allowHostPath, builder }, { live: await liveFromStore(store), source: 'server', name: apiUrl });
      },
    });
    apiUrl = api.url;
    // serve.json names this serve to a second one, and its reachable URL to `convergit kubeconfig`.
    lock.announce({ url: reachable(opts.host) === opts.host ? api.url : api.url.replace(opts.host, reachable(opts.host)), tokenFile: token.file, certFile: tls?.certFile });
    started.push(() => api.close());
    timings.mark('API');
    await (preparing ?? source.prepare()).catch((e) => log(`source: ${(e as Error).message} (will keep retrying)`));
    await warming;
    timings.mark('source');
    await proceed();
    // The sync loop starts before the engine: a sync a crash cut off is resumed at once, and with a local repository
    // its first pass ends before the controllers and nodes start, so they start from the revision git says rather
    // than spend the restart rolling out the one before it (a remote's fetch does not hold them up).
    const syncer = new Syncer(source, store, { repository, branch: opts.branch, path: opts.path, strict: opts.strict, allowHostPath: opts.allowHostPath, retryBaseMs: opts.retryBase, builder });
    syncer.onStatus(reportChanges());
    // A new revision to sync once serve is up and its first sync is over: the start is over, and what follows may be
    // pod churn (not a remote's first sync still running, a retry, a spurious change of the same head).
    let firstOver = false;
    syncer.onStatus((s) => {
      if (ready && firstOver && BUSY_STATES.has(s.state) && s.head && s.head !== s.lastAppliedRevision) heap.stop('(a new revision to sync)');
    });
    const stopFollowing = followSuspension(dataDir, 500, (suspended, reason) => {
      log(suspended ? `suspended${reason ? `: ${reason}` : ''}` : 'resumed');
      if (suspended) syncer.suspend(reason); else syncer.resume();
    });
    started.push(stopFollowing);
    await syncer.start();
    // The controllers' first pass follows the first sync: the start's peak, held tighter (start-heap.ts).
    void syncer.firstOutcome().then(() => { firstOver = true; heap.synced(); });
    started.push(() => syncer.stop()); // lets a running sync finish: never half-applied
    const resumed = syncer.interrupted();
    if (resumed) log(`sync: resuming revision ${resumed.slice(0, 7)}, which the previous run had not recorded as applied`);
    if (!source.remote) await syncer.firstOutcome();
    timings.mark('first sync');
    await proceed();
    // npm install's training of the code cache (scripts/train-code-cache.mjs; internal): the start's code up to its
    // first sync, written as it exits, and nothing of the engine's (no runtime chosen, no address or route taken on
    // the machine). Exits 1 unless that sync applied: the cache of a failure is not shipped.
    if (process.env.CONVERGIT_INTERNAL_TRAIN_CODE_CACHE === '1') {
      const outcome = await syncer.firstOutcome();
      log(`exiting after the first sync (${outcome}): CONVERGIT_INTERNAL_TRAIN_CODE_CACHE is npm install's training run`);
      await stopAll(outcome === 'synced' ? 0 : 1);
    }
    await reserving;
    // The engine's modules (controllers, runtimes, the ingress proxy: ~40 ms of the start's module loading) load once
    // the first sync is over: nothing before it needs them.
    const { startEngine } = await import('./engine.ts');
    const engine = await startEngine({
      store, dataDir, exportTree: (oid, dest) => source.exportTree(oid, dest), host: opts.host, log,
      nodes: opts.nodes, nodeName: opts.nodeName, labels: opts.nodeLabels,
      taints: opts.nodeTaints ?? [],
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriod,
      endpointUpdatesBatchPeriodMs: opts.endpointUpdatesBatchPeriod,
      perNode: {
        labels: Object.fromEntries(Object.entries(opts.labelNode ?? {}).map(([n, ls]) => [n, Object.assign({}, ...ls)])),
        taints: Object.fromEntries(Object.entries(opts.taintNode ?? {}).map(([n, ts]) => [n, ts.flat()])),
      },
      capacity: { cpu: opts.nodeCpu, memory: opts.nodeMemory, pods: opts.nodePods },
      restartBackoff: { baseMs: opts.restartBackoff, maxMs: opts.restartBackoffMax },
      runtime: opts.runtime, addressBlocks, gitImageBase: opts.gitImageBase,
      storageDir: opts.storageDir ? path.resolve(opts.storageDir) : undefined,
      allowPrivileged: opts.allowPrivileged, podPidsLimit: opts.podPidsLimit, podsCpuShares: opts.podsCpuShares, registryMirrors: opts.registryMirror,
      metricResolutionMs: opts.metricResolution, ingressPort: opts.ingressPort, ingressTlsPort: opts.ingressTlsPort,
      imageGC: { highThresholdPercent: opts.imageGcHighThreshold, lowThresholdPercent: opts.imageGcLowThreshold, minAgeMs: opts.imageMinimumGcAge },
      logRotation: { maxSizeBytes: opts.containerLogMaxSize, maxFiles: opts.containerLogMaxFiles, intervalMs: opts.containerLogMonitorInterval },
      ...(opts.hollow && { hollow: { startDelayMs: opts.hollowStartDelay ?? 0 } }),
    });
    timings.mark('engine');
    started.push(() => engine.stop()); // the pods' containers keep running: the next serve re-adopts them
    await proceed();
    started.push(followNodeRequests(dataDir, store, log)); // convergit drain / uncordon
    print(`convergit ${VERSION} serving ${api.url}  (status page ${api.url}/, JSON ${api.url}/status)`);
    if (tls) print(`the API listens beyond loopback: over TLS (certificate ${tls.certFile}) and only with the bearer token (${token.file ?? '$CONVERGIT_API_TOKEN'}); \`convergit kubeconfig --data-dir ${dataDir}\` writes both for kubectl`);
    print(`watching ${repository} branch ${opts.branch}${opts.path ? ` path ${opts.path}` : ''}; data in ${dataDir}`);
    print(engine.nodeNames.length ? `node(s): ${engine.nodeNames.join(', ')}` : 'no nodes (--nodes 0): pods stay Pending');
    started.push(await announceNodePorts(store, reachable(opts.host), () => engine.listening(), log));
    await proceed();
    timings.mark('node ports');
    log(timings.line());
    restoreInlining();
    saveCodeCacheSoon(3000); // with the first reconciles' code too
    ready = true;
    heap.started();
  } catch (e) {
    for (const stop of started.reverse()) await stop();
    throw e;
  }
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

/**
 * The branch head read (GitSource.warm), its files handed to a Preload as the sync loop's reads hand theirs: with
 * parse workers, they load it meanwhile; without, the first sync's load parses it. Never rejects.
 */
async function warmRead(source: GitSource, builder: Builder, opts: ServeOptions): Promise<void> {
  const preload = new Preload({ strict: opts.strict, root: opts.path, cache: await builder.loads().catch(() => undefined) });
  try {
    await source.warm(preload.hooks);
    await preload.finish();
  } catch {
    preload.abort(); // what it loaded stays loaded; the first sync loads the rest
  }
}
