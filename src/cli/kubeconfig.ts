// `convergit kubeconfig`: a kubeconfig for the serve running on a data folder (its URL is written there when it
// listens), so plain `kubectl` works without --server. `--merge` adds it to the first file of $KUBECONFIG (or
// ~/.kube/config) and makes it the current context, as `kind` and `minikube` do.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseYaml } from '../manifests/parse.ts';
import { toYaml } from '../manifests/to-yaml.ts';
import { readLockOwner } from './data-dir-lock.ts';
import { readApiToken } from './api-token.ts';
import { writeFileWholeSync } from '../store/durable-file.ts';

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
};

/** The URL the folder's serve announced in serve.json (through the lock that writes it). */
export function readServeUrl(dataDir: string): string {
  const owner = readLockOwner(dataDir);
  const file = path.join(dataDir, 'serve.json');
  if (!owner) throw new Error(`no convergit serve has run on ${dataDir} (${file} does not exist): start \`convergit serve --data-dir ${dataDir}\` first`);
  if (!owner.url) throw new Error(`${file} names no URL`);
  if (!alive(owner.pid)) console.error(`convergit: warning: the serve that listened on ${owner.url} (pid ${owner.pid}) is not running now`);
  return owner.url;
}

/** The self-signed certificate of an API served over TLS (api-certificate.ts), to pin as the cluster's CA. */
function readCertificate(file: string | undefined): string | undefined {
  try {
    return file ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** `convergit-<folder>`: the context, cluster and user name for a data folder. */
export const contextName = (dataDir: string) => `convergit-${path.basename(path.resolve(dataDir)).replace(/^\./, '') || 'data'}`;

/** `token`: the API's bearer token (by default the one the folder's serve uses), so kubectl reads Secrets and non-loopback APIs. */
export function kubeconfigFor(dataDir: string, url = readServeUrl(dataDir), token = readApiToken(dataDir, readLockOwner(dataDir)?.tokenFile),
  ca = readCertificate(readLockOwner(dataDir)?.certFile)) {
  const name = contextName(dataDir);
  const tls = ca ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : url.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {};
  return {
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http unless TLS verification is off (there is no TLS to verify); kubectl ignores it.
    clusters: [{ name, cluster: { server: url, ...tls } }],
    users: [{ name, user: token ? { token } : {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  };
}

/** The file `--merge` writes: the first of $KUBECONFIG, else ~/.kube/config (as kubectl picks it). */
export function kubeconfigPath(env = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find(Boolean);
  return first ?? path.join(os.homedir(), '.kube', 'config');
}

type Named = { name: string };

/** `into` with `entries` replacing those of the same name. */
const upsert = <T extends Named>(into: T[] | undefined, entries: T[]) =>
  [...(into ?? []).filter((e) => !entries.some((n) => n.name === e.name)), ...entries];

export function mergeKubeconfig(file: string, add: ReturnType<typeof kubeconfigFor>): void {
  let current: any = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], preferences: {} };
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const parsed = parseYaml(text, file, 100);
    if (parsed.error) throw new Error(`${file}:${parsed.error.line}:${parsed.error.column}: ${parsed.error.message}`);
    const doc = parsed.docs[0]?.value;
    if (doc !== undefined) {
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${file}: not a kubeconfig (expected a mapping with clusters, users and contexts)`);
      current = doc;
    }
  }
  const merged = {
    ...current,
    clusters: upsert(current.clusters, add.clusters),
    users: upsert(current.users, add.users),
    contexts: upsert(current.contexts, add.contexts),
    'current-context': add['current-context'],
  };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileWholeSync(file, toYaml(merged), 0o600); // kubectl never reads half a file
}

export function kubeconfig(o: { dataDir: string; merge: boolean }): number {
  const config = kubeconfigFor(o.dataDir);
  if (!o.merge) {
    process.stdout.write(toYaml(config));
    return 0;
  }
  const file = kubeconfigPath();
  mergeKubeconfig(file, config);
  console.log(`added context ${config['current-context']} (server ${config.clusters[0].cluster.server}) to ${file} and made it the current context`);
  return 0;
}
