// The read-only HTTP API: Kubernetes paths over the store, /status, the status page. Every write is refused.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../store/store.ts';
import type { KubeObject } from '../model/object.ts';
import { StoreError } from '../store/store.ts';
import { apiVersionOf } from '../model/kinds.ts';
import { parseSelector, type Requirement } from '../model/selector.ts';
import type { StatusReport } from '../sync/status.ts';
import { parseResourcePath, type ResourcePath } from './paths.ts';
import { discovery } from './discovery.ts';
import { sendJson, sendStatus } from './responses.ts';
import { toTable, wantsTable } from './tables.ts';
import { renderStatusPage } from './status-page.ts';
import { workloads } from './workloads.ts';
import type { PlanReport } from '../review/report.ts';
import { renderReport, OUTPUT_FORMATS, type OutputFormat } from '../review/render.ts';

export interface ApiServerOptions {
  store: Store;
  host: string;
  port: number;
  /** Named in the 405 answer: where changes are made instead. */
  repository: string;
  branch: string;
  version: string;
  /** Reads a container's log (wired to the node's log files by the CLI). Throws an error with `status` (HTTP code). */
  podLogs?: (pod: KubeObject, opts: PodLogOptions) => Promise<string>;
  /** `follow=true`: writes the log, then what is appended, until the signal aborts or the container's run ends. */
  followPodLog?: (pod: KubeObject, opts: PodLogOptions, write: (chunk: string) => void, signal: AbortSignal) => Promise<void>;
  /** `GET /plan?ref=`: plans a ref of the repository against the live state, never applying it. */
  plan?: (ref: string) => Promise<PlanReport>;
}

export interface PodLogOptions { container?: string; tailLines?: number; previous?: boolean; limitBytes?: number }

/** An address a person on this machine can open, for a server listening on `host`. */
export const reachable = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const server = createServer((req, res) => {
    handle(req, res, opts).catch((e) => {
      if (!res.headersSent) sendStatus(res, 500, e instanceof Error ? e.message : String(e));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    port,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ApiServerOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendStatus(res, 405,
      `convergit is read-only: ${req.method} is not allowed. Change the system by committing to ${opts.repository} (branch ${opts.branch}); roll back with git revert.`);
  }
  const status = () => opts.store.getMeta<StatusReport>('status');
  switch (url.pathname) {
    case '/healthz': case '/livez': case '/readyz':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    case '/version':
      return sendJson(res, 200, { major: '1', minor: '32', gitVersion: `v1.32.0+convergit.${opts.version}`, platform: `${process.platform}/${process.arch}`, goVersion: process.version, compiler: 'convergit' });
    case '/status':
      return sendJson(res, 200, { ...((await status()) ?? { state: 'idle', message: 'starting' }), workloads: await workloads(opts.store, reachable(opts.host)) });
    case '/plan':
      return servePlan(res, opts, url.searchParams);
    case '/':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(renderStatusPage(await status(), await workloads(opts.store, reachable(opts.host))));
  }
  const disc = discovery(url.pathname, `${req.socket.localAddress}:${req.socket.localPort}`);
  if (disc) return sendJson(res, 200, disc);
  const path = parseResourcePath(url.pathname);
  if (path instanceof Error) return sendStatus(res, 404, path.message);
  if (!path) return sendStatus(res, 404, `the server could not find the requested resource (${url.pathname})`);
  if (path.subresource === 'log' && path.info.kind === 'Pod' && opts.podLogs) return serveLog(res, opts, path, url.searchParams);
  return serveResource(req, res, opts.store, path, url.searchParams);
}

async function serveResource(req: IncomingMessage, res: ServerResponse, store: Store, p: ResourcePath, q: URLSearchParams): Promise<void> {
  const { info } = p;
  if (p.subresource) return sendStatus(res, 404, `${info.resource}/${p.subresource} is not served yet`);
  const namespace = info.namespaced ? p.namespace : undefined;
  let selector: Requirement[] | undefined;
  try {
    selector = q.get('labelSelector') ? parseSelector(q.get('labelSelector')!) : undefined;
  } catch (e) {
    return sendStatus(res, 400, `labelSelector: ${(e as Error).message}`);
  }
  // kubectl asks for one object by name this way when watching it.
  const byName = q.get('fieldSelector')?.match(/^metadata\.name=(.+)$/)?.[1];
  if (q.get('watch') === 'true' || q.get('watch') === '1') return watch(req, res, store, p, { namespace, selector, name: byName, resourceVersion: q.get('resourceVersion') || undefined });

  if (p.name) {
    const obj = await store.get(info.kind, namespace, p.name);
    if (!obj) return sendStatus(res, 404, `${info.resource} "${p.name}" not found`, { name: p.name, kind: info.resource });
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(info.kind, [obj], obj.metadata.resourceVersion ?? ''));
    return sendJson(res, 200, obj);
  }
  let items = await store.list(info.kind, { namespace, labelSelector: selector });
  if (byName) items = items.filter((o) => o.metadata.name === byName);
  const resourceVersion = await store.resourceVersion();
  if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(info.kind, items, resourceVersion));
  sendJson(res, 200, { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata: { resourceVersion }, items });
}

/** `GET /plan?ref=<ref>[&output=json|text|markdown]`: a pull request's plan against what runs now. */
async function servePlan(res: ServerResponse, opts: ApiServerOptions, q: URLSearchParams): Promise<void> {
  const ref = q.get('ref');
  if (!opts.plan) return sendStatus(res, 404, 'planning is not available on this server');
  if (!ref) return sendStatus(res, 400, 'ref: required, e.g. /plan?ref=feature');
  const output = (q.get('output') ?? 'json') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(output)) return sendStatus(res, 400, `output: must be one of ${OUTPUT_FORMATS.join(', ')}, not "${output}"`);
  let report: PlanReport;
  try {
    report = await opts.plan(ref);
  } catch (e) {
    const reason = (e as { reason?: string }).reason;
    if (reason === 'RefNotFound' || reason === 'BranchNotFound') return sendStatus(res, 404, (e as Error).message);
    throw e;
  }
  // The same bytes as `convergit plan --output <format>`: json in the documented field order.
  const type = output === 'json' ? 'application/json' : output === 'markdown' ? 'text/markdown; charset=utf-8' : 'text/plain; charset=utf-8';
  res.writeHead(200, { 'content-type': type });
  res.end(renderReport(report, output));
}

/** `kubectl logs`: the container's log as plain text. */
async function serveLog(res: ServerResponse, opts: ApiServerOptions, p: ResourcePath, q: URLSearchParams): Promise<void> {
  const pod = p.name && await opts.store.get('Pod', p.namespace, p.name);
  if (!pod) return sendStatus(res, 404, `pods "${p.name}" not found`, { name: p.name, kind: 'pods' });
  const count = (name: string) => {
    const v = q.get(name);
    if (v === null) return undefined;
    if (!/^\d+$/.test(v)) throw Object.assign(new Error(`${name}: must be a non-negative integer, not "${v}"`), { status: 400 });
    return Number(v);
  };
  try {
    const o: PodLogOptions = {
      container: q.get('container') || undefined,
      tailLines: count('tailLines'),
      limitBytes: count('limitBytes'),
      previous: q.get('previous') === 'true',
    };
    if (q.get('follow') === 'true' && !o.previous && opts.followPodLog) {
      const stop = new AbortController();
      res.on('close', () => stop.abort());
      await opts.followPodLog(pod, o, (chunk) => {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.write(chunk);
      }, stop.signal);
      return void res.end();
    }
    const text = await opts.podLogs!(pod, o);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (typeof status !== 'number' || res.headersSent) throw e;
    sendStatus(res, status, (e as Error).message);
  }
}

/** A Kubernetes watch stream: one JSON event per line until the client goes away. */
async function watch(req: IncomingMessage, res: ServerResponse, store: Store, p: ResourcePath,
  w: { namespace?: string; selector?: Requirement[]; name?: string; resourceVersion?: string }): Promise<void> {
  const table = wantsTable(req.headers.accept);
  let stop: () => void;
  // Headers go out at once: a client waits for them before it reads any event. A too-old version is an ERROR event, as in Kubernetes.
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  try {
    stop = await store.watch({ kind: p.info.kind, namespace: w.namespace, labelSelector: w.selector, resourceVersion: w.resourceVersion }, (e) => {
      if (w.name && e.object.metadata.name !== w.name) return;
      const object = table ? toTable(p.info.kind, [e.object], e.object.metadata.resourceVersion ?? '') : e.object;
      res.write(JSON.stringify({ type: e.type, object }) + '\n');
    });
  } catch (e) {
    if (e instanceof StoreError && e.reason === 'Gone') {
      res.write(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: e.message } }) + '\n');
      return void res.end();
    }
    throw e;
  }
  req.on('close', () => stop());
}
