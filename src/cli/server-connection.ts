// How `plan --server` and `history` reach a running serve, with credentials as kubectl finds them: --server, --token
// and --certificate-authority on the command line, else $CONVERGIT_TOKEN, else the kubeconfig (--kubeconfig, else
// $KUBECONFIG's files, else ~/.kube/config; `convergit kubeconfig` writes one: server, CA, token). A serve bound
// beyond loopback answers only HTTPS with its self-signed certificate and a bearer token (api-token.ts,
// api-certificate.ts); a 401 or a certificate that does not match says which credential to give.
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseYaml } from '../manifests/parse.ts';

export const CLIENT_TOKEN_ENV = 'CONVERGIT_TOKEN';

/** The flags plan and history take, named as kubectl's. */
export interface ServerFlags {
  server?: string;
  token?: string;
  kubeconfig?: string;
  context?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface ServerConnection {
  url: string;
  /** GETs `path` (e.g. /status) as JSON; a clear error on no answer, 401, a certificate not trusted, or any non-2xx. */
  getJson(path: string): Promise<any>;
}

interface Kubeconfig { file: string; clusters: Map<string, any>; users: Map<string, any>; contexts: Map<string, any>; current?: string }

/** The kubeconfig files in kubectl's order; the first file to name a cluster, user, context or current-context wins. */
function loadKubeconfig(flags: ServerFlags, env: NodeJS.ProcessEnv): Kubeconfig | undefined {
  const files = flags.kubeconfig ? [path.resolve(flags.kubeconfig)]
    : env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter).filter(Boolean)
      : [path.join(os.homedir(), '.kube', 'config')];
  if (flags.kubeconfig && !existsSync(files[0])) throw new Error(`--kubeconfig ${files[0]}: no such file`);
  const merged: Kubeconfig = { file: files.join(path.delimiter), clusters: new Map(), users: new Map(), contexts: new Map() };
  let any = false;
  for (const file of files.filter((f) => existsSync(f))) {
    const parsed = parseYaml(readFileSync(file, 'utf8'), file, 100);
    if (parsed.error) throw new Error(`${file}:${parsed.error.line}:${parsed.error.column}: ${parsed.error.message}`);
    const doc = parsed.docs[0]?.value as any;
    if (doc == null) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: not a kubeconfig (expected a mapping with clusters, users and contexts)`);
    any = true;
    const add = (into: Map<string, any>, list: unknown, field: string) => {
      for (const e of Array.isArray(list) ? list : []) if (e?.name && !into.has(e.name)) into.set(e.name, { ...(e[field] ?? {}), file });
    };
    add(merged.clusters, doc.clusters, 'cluster');
    add(merged.users, doc.users, 'user');
    add(merged.contexts, doc.contexts, 'context');
    merged.current ??= doc['current-context'] || undefined;
  }
  return any ? merged : undefined;
}

const normal = (url: string) => url.replace(/\/+$/, '');

/**
 * The serve to ask and how. `fallback(current)` picks the URL when neither --server nor an explicit --kubeconfig or
 * --context gives one (current: the kubeconfig's current context name and server, if any); undefined: no server.
 */
export function connectServer(flags: ServerFlags, fallback: (current?: { name: string; server?: string }) => string | undefined,
  env: NodeJS.ProcessEnv = process.env): ServerConnection | undefined {
  const config = loadKubeconfig(flags, env);
  const contextName = flags.context ?? config?.current;
  if (flags.context && !config?.contexts.has(flags.context)) throw new Error(`--context ${flags.context}: no such context in ${config?.file ?? 'the kubeconfig'}`);
  const context = contextName ? config?.contexts.get(contextName) : undefined;
  const currentServer = context ? config!.clusters.get(context.cluster)?.server as string | undefined : undefined;
  const explicit = flags.kubeconfig !== undefined || flags.context !== undefined;
  if (explicit && !flags.server && !currentServer) throw new Error(`${config?.file ?? flags.kubeconfig}: no current context with a cluster server (give --context or --server)`);
  const url = flags.server ?? (explicit ? currentServer : fallback(contextName ? { name: contextName, server: currentServer } : undefined));
  if (!url) return undefined;
  if (!/^https?:\/\//i.test(url)) throw new Error(`--server ${url}: not an http(s) URL`);

  // The kubeconfig's credentials go only to the server they were written for: the context's cluster if it is
  // this URL, else any context whose cluster is.
  let cluster: any, user: any;
  const fits = (c: any) => c && c.cluster !== undefined && normal(config!.clusters.get(c.cluster)?.server ?? '') === normal(url);
  const ctx = fits(context) ? context : config && [...config.contexts.values()].find(fits);
  if (ctx) { cluster = config!.clusters.get(ctx.cluster); user = config!.users.get(ctx.user); }

  let token: string | undefined, tokenFrom = '';
  if (flags.token) [token, tokenFrom] = [flags.token, '--token'];
  else if (env[CLIENT_TOKEN_ENV]) [token, tokenFrom] = [env[CLIENT_TOKEN_ENV]!.trim(), `$${CLIENT_TOKEN_ENV}`];
  else if (user?.token) [token, tokenFrom] = [user.token, `the kubeconfig ${user.file}`];
  else if (user?.tokenFile) [token, tokenFrom] = [readFileSync(path.resolve(path.dirname(user.file), user.tokenFile), 'utf8').trim(), `${user.tokenFile} (the kubeconfig ${user.file})`];

  let ca: string | undefined, caFrom = '';
  if (flags.certificateAuthority) [ca, caFrom] = [readFileSync(flags.certificateAuthority, 'utf8'), `--certificate-authority ${flags.certificateAuthority}`];
  else if (cluster?.['certificate-authority-data']) [ca, caFrom] = [Buffer.from(cluster['certificate-authority-data'], 'base64').toString(), `the kubeconfig ${cluster.file}`];
  else if (cluster?.['certificate-authority']) [ca, caFrom] = [readFileSync(path.resolve(path.dirname(cluster.file), cluster['certificate-authority']), 'utf8'), `${cluster['certificate-authority']} (the kubeconfig ${cluster.file})`];
  const insecure = flags.insecureSkipTlsVerify ?? cluster?.['insecure-skip-tls-verify'] === true;
  const base = normal(url);

  const getJson = (p: string) => new Promise<any>((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const https = base.toLowerCase().startsWith('https:');
    const req = (https ? httpsRequest : httpRequest)(base + p, { headers, ...(https ? { ca, rejectUnauthorized: !insecure } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode === 401) {
          return reject(new Error(token ? `${base}: 401 Unauthorized: the server refused the token from ${tokenFrom}`
            : `${base}: 401 Unauthorized: this serve requires a bearer token: give --token, $${CLIENT_TOKEN_ENV}, or --kubeconfig with the file \`convergit kubeconfig\` prints`));
        }
        if (res.statusCode! < 200 || res.statusCode! >= 300) return reject(new Error(`${base}${p}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        try { resolve(JSON.parse(body)); } catch { reject(new Error(`${base}${p}: not JSON: ${body.slice(0, 100)}`)); }
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(untrusted(e.code) ? certificateMessage(base, e, ca ? caFrom : undefined) : `cannot reach convergit at ${base}: ${e.code ?? e.message}`)));
    req.end();
  });
  return { url: base, getJson };
}

/** OpenSSL's and Node's codes for a certificate chain or name that does not check out. */
const untrusted = (code?: string) => !!code && (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code));

function certificateMessage(base: string, e: NodeJS.ErrnoException, caFrom?: string): string {
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${base}: the server's certificate does not name this host (${e.message}): use the server address \`convergit kubeconfig\` prints`;
  return caFrom
    ? `${base}: the server's certificate does not match the certificate authority from ${caFrom} (${e.code}): the serve's certificate was made again, or this is another server; print a new kubeconfig with \`convergit kubeconfig --data-dir <its folder>\``
    : `${base}: the server's certificate is not trusted (${e.code}): give --kubeconfig with the file \`convergit kubeconfig\` prints (it pins the serve's self-signed certificate), or --certificate-authority <data-dir>/apiserver.crt`;
}
