// `convergit plan`: what a ref would change, whether it is valid and whether it fits, for a pull-request review.
import os from 'node:os';
import path from 'node:path';
import { GitSource } from '../source/git-source.ts';
import { Builder } from '../build/builder.ts';
import { userBuildCacheDir, userLoadCacheDir } from '../build/cache-dir.ts';
import { liveFromDataDir, liveFromServer } from '../review/live-sources.ts';
import { planRevision, type PlanAgainst, type PlanSource } from '../review/plan-revision.ts';
import { unreadBy } from '../build/load-cache.ts';
import { Preload } from '../manifests/load-manifests.ts';
import { exitCodeOf } from '../review/review.ts';
import { renderReport, type OutputFormat } from '../review/render.ts';
import { connectServer, type ServerFlags } from './server-connection.ts';

export interface PlanOptions extends ServerFlags {
  repo: string;
  ref: string;
  base?: string;
  dataDir?: string;
  branch: string;
  path: string;
  strict: boolean;
  allowHostPath?: string[];
  maxManifestFiles?: number;
  output: OutputFormat;
  detailedExitcode: boolean;
}

export async function plan(opts: PlanOptions): Promise<number> {
  const live = [opts.server ? '--server' : opts.kubeconfig ? '--kubeconfig' : opts.context && '--context', opts.dataDir && '--data-dir', opts.base && '--base'].filter(Boolean);
  if (live.length > 1) throw new Error(`${live.join(' and ')} both say what to compare with: give one`);
  const remote = /^https?:\/\//i.test(opts.repo);
  const source = new GitSource({
    repo: remote ? opts.repo : path.resolve(opts.repo), branch: opts.branch, path: opts.path, maxManifestFiles: opts.maxManifestFiles,
    // Clones of remote repositories are kept per user: a shared temp folder could be planted by someone else.
    dataDir: path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convergit', 'plan'), interval: 0,
  });
  await source.prepare();
  if (remote) await source.fetch(); // a reused clone: bring every branch up to date
  // Only --server, --kubeconfig or --context compare with a server: a $KUBECONFIG alone keeps the base comparison.
  const server = opts.server || opts.kubeconfig || opts.context ? connectServer(opts, () => undefined) : undefined;
  // Read once the ref's files are (planRevision): the parse workers, handed them as they were read, work meanwhile.
  const against = async (): Promise<PlanAgainst> => server ? { live: await liveFromServer(server.getJson), source: 'server', name: server.url }
    : opts.dataDir ? { live: await liveFromDataDir(path.resolve(opts.dataDir)), source: 'data-dir', name: opts.dataDir }
      : { base: opts.base, branch: opts.branch };
  // Against serve's data folder, what serve built and loaded is so already (its caches, read only): a first plan on
  // serve's machine builds and parses only what serve has not.
  const builder = new Builder({ cacheDir: userBuildCacheDir(), loadCacheDir: userLoadCacheDir(), ...(opts.dataDir && { alsoFrom: [path.resolve(opts.dataDir)] }) });
  // Files the load cache holds loaded are not read from git at all; the others are parsed as they are read.
  const loads = await builder.loads();
  const unread = loads && unreadBy(loads, { strict: opts.strict });
  const preload = new Preload({ strict: opts.strict, root: opts.path, cache: loads });
  const reading: PlanSource = {
    resolve: (ref) => source.resolve(ref), read: (sha) => source.read(sha, { unread, ...preload.hooks }), mergeBase: (a, b) => source.mergeBase(a, b),
    treeChanges: (a, b) => source.treeChanges(a, b), treeOid: (sha, dir) => source.treeOid(sha, dir), revisionTree: (sha) => source.revisionTree(sha),
  };
  let report;
  try {
    report = await planRevision(reading, { ref: opts.ref, path: opts.path, strict: opts.strict, allowHostPath: opts.allowHostPath, builder, preload }, against);
  } finally {
    preload.abort(); // a failed read or load reports at once; after a load, nothing is left to end
  }
  process.stdout.write(renderReport(report, opts.output, { color: process.stdout.isTTY && !process.env.NO_COLOR }));
  return exitCodeOf(report, opts.detailedExitcode);
}
