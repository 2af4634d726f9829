// A serve on podman running files of the public corpus committed unmodified, its images pulled through
// --registry-mirror from a local registry holding the stand-ins (corpus-standins.ts): what the corpus e2e tests
// share. It touches podman's machine-wide state (networks, images), so test/run.ts runs its users in the podman shard.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from './git-repo.ts';
import { podmanMissing, removeLeftoverNetworks } from './podman.ts';
import { registryMissing, startRegistry, type Registry } from './registry.ts';
import { startServe, type ServeProcess } from './serve-process.ts';
import { mirrorFlags, pushStandins, removeStandins } from './corpus-standins.ts';
import { CORPUS } from '../corpus/corpus-load.ts';

/** Why the corpus cannot run here (no podman, no registry, no corpus), or undefined. */
export function corpusServeMissing(): string | undefined {
  return podmanMissing() ?? registryMissing() ?? (existsSync(CORPUS) ? undefined : `the corpus is not at ${CORPUS}`);
}

export interface CorpusServeOptions {
  /** Corpus paths, committed at those paths with their content as upstream has it. */
  files: string[];
  /** Stand-in names (keys of STANDINS) to push to the registry. */
  images: string[];
  /** The commit's message. */
  message: string;
  /** The pods' cluster CIDR, e.g. 10.209.0.0/16: one per test file, so a leftover network of another is not ours. */
  clusterCidr: string;
  /** More serve flags (--allow-host-path …). */
  serveArgs?: string[];
}

export interface CorpusServe {
  serve: ServeProcess;
  repo: TestRepo;
  dataDir: string;
  registry: Registry;
  /** Full image name → the digest its stand-in was pushed with. */
  digests: Record<string, string>;
  /** Stops serve and its pods, removes the stand-ins from podman's store, stops the registry, removes the folders. */
  stop(): Promise<void>;
}

/**
 * Starts it all. Refuses to start when podman holds a real (not stand-in) image of one of those names: an
 * IfNotPresent pull would then not go to the mirror. What it made before a failure is undone.
 */
export async function startCorpusServe(o: CorpusServeOptions): Promise<CorpusServe> {
  const real = removeStandins(o.images);
  if (real.length) throw new Error(`podman already holds ${real.join(', ')} (not a stand-in): remove it, or the pull would not go through the mirror`);
  // A killed earlier run's network on this CIDR (podman names it after the subnet, 10-209-…) would block ours.
  removeLeftoverNetworks(`${o.clusterCidr.split('.').slice(0, 2).join('-')}-`);
  let registry: Registry | undefined, repo: TestRepo | undefined, dataDir: string | undefined, serve: ServeProcess | undefined;
  const stop = async () => {
    await serve?.shutdown();
    removeStandins(o.images);
    await registry?.stop();
    repo?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    registry = await startRegistry();
    const digests = pushStandins(registry, o.images);
    repo = makeRepo(Object.fromEntries(o.files.map((f) => [f, readFileSync(join(CORPUS, f), 'utf8')])), { message: o.message });
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-corpus-'));
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', o.clusterCidr,
      ...mirrorFlags(registry), ...(o.serveArgs ?? [])], { listenTimeoutMs: 60_000 });
    return { serve, repo, dataDir, registry, digests, stop };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
