// The read-only HTTP API: Kubernetes paths over the store, /status, the status page. Every write is refused.
import { randomUUID } from 'node:crypto';
import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Store } from '../store/store.ts';
import type { KubeObject } from '../model/object.ts';
import { apiVersionOf } from '../model/kinds.ts';
import { parseSelector, type Requirement } from '../model/selector.ts';
import type { StatusReport } from '../sync/status.ts';
import { PORT_CONFLICT_METAS, type PortConflict } from '../model/port-conflict.ts';
import { parseResourcePath, type ResourcePath } from './paths.ts';
import { AGGREGATED_TYPE, aggregatedDiscovery, discovery, hasStatus, SCALABLE, servedKinds, wantsAggregated } from './discovery.ts';
import { sendJson, sendJsonStreamed, sendStatus, statusBody } from './responses.ts';
import { storedJson } from '../model/stored-json.ts';
import { summarise } from './status-summary.ts';
import { formatSelector, parseIncludeObject, toTable, wantsTable, type IncludeObject } from './tables.ts';
import { renderStatusPage } from './status-page.ts';
import { workloads } from './workloads.ts';
import type { PlanReport } from '../review/report.ts';
import { renderReport, OUTPUT_FORMATS, type OutputFormat } from '../review/render.ts';
import { parseFieldSelector, type FieldRequirement } from './field-selector.ts';
import { ContinueError, Paginator } from './pagination.ts';
import { ApiError, parseResourceVersion, waitForResourceVersion } from './resource-version.ts';
import { getView, listView, passes, servedAsStored, viewOf, type ViewDeps } from './views.ts';
import { frontRoutes, internalSocketPath, startFront, type Front } from './front.ts';
import { FRONT_KEEP_HEADER, FRONT_LOCAL_HEADER, FRONT_SECRET_HEADER } from './front-protocol.ts';
import { ApiServiceAvailability, localApiServices } from './api-services.ts';
import { COMPONENT_STATUS_WARNING, probeComponent, probeComponents } from './component-status.ts';
import { isWatch, serveWatch } from './watch.ts';
import { answerReview } from './reviews.ts';
import { decodeReview, isKubeProtobuf } from './review-protobuf.ts';
import { openApiDocuments, type ExtraOpenApi, type OpenApiDocuments } from './openapi.ts';
import { crdOpenApi } from './crd-openapi.ts';
import { crdColumns } from './crd-columns.ts';
import { isResourceMetrics, serveResourceMetrics } from './resource-metrics.ts';
import { ApiMetrics, type RequestLabels } from './metrics.ts';
import { nodeCommandRefusal, refusal, STREAMING_SUBRESOURCES } from './refusals.ts';
import { isLoopbackHost, PUBLIC_PATHS, redactSecret, tokenMatches } from './auth.ts';
import { admission, DEFAULT_LIMITS, requestUrl, type ApiLimits } from './limits.ts';

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
  /** OpenAPI definitions and paths beyond the built-in kinds (custom resources). */
  openApiExtra?: ExtraOpenApi;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK. Default 60 s, as kube-apiserver. */
  bookmarkIntervalMs?: number;
  /** How long a chunked list's continue token stays consistent. Default 5 minutes, as etcd's compaction. */
  continueTtlMs?: number;
  /**
   * The bearer token (api/auth.ts): required for everything but health and version when `host` is not loopback;
   * Secret values are served only to requests carrying it. Listening beyond loopback without one is refused.
   */
  token?: string;
  /** Served over HTTPS with this certificate (kubectl sends a token only over TLS). */
  tls?: { cert: string; key: string };
  /** Caps and timeouts against abusive clients (api/limits.ts); defaults there. */
  limits?: Partial<ApiLimits>;
}

export interface PodLogOptions {
  container?: string; tailLines?: number; previous?: boolean; limitBytes?: number;
  /** Only lines written at or after this time (sinceSeconds and sinceTime both become this). */
  since?: Date;
  /** Each line prefixed with the RFC 3339 time it was written, as `kubectl logs --timestamps`. */
  timestamps?: boolean;
}

/** An address a person on this machine can open, for a server listening on `host`. */
export const reachable = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Context extends ApiServerOptions {
  limit: ApiLimits;
  /** Whether this request carries the bearer token. */
  authenticated?: boolean;
  paginator: Paginator;
  /** The OpenAPI documents for the kinds served now (rebuilt when the established CRDs change). */
  openapi: () => Promise<OpenApiDocuments>;
  metrics: ApiMetrics;
  apiServices: ApiServiceAvailability;
  /** When this server started (RFC 3339): the Local APIServices' creation when kube-system has none. */
  startedAt: string;
  /** The front thread (front.ts), once it listens. */
  front?: Front;
}

/** kube-apiserver's labels for a request: LIST and WATCH are GETs of a collection; scope is namespace/cluster/resource. */
function requestLabels(req: IncomingMessage): RequestLabels {
  const url = requestUrl(req);
  const p = url.malformed ? undefined : parseResourcePath(url.pathname);
  const method = req.method ?? 'GET';
  if (!p || p instanceof Error) return { verb: method, group: '', version: '', resource: '', subresource: '', scope: '' };
  const collection = !p.name;
  const verb = method !== 'GET' && method !== 'HEAD' ? method
    : isWatch(url.searchParams.get('watch')) ? 'WATCH' : collection ? 'LIST' : 'GET';
  return {
    verb, group: p.info.group, version: p.info.version, resource: p.info.resource, subresource: p.subresource ?? '',
    scope: p.name ? 'resource' : p.namespace ? 'namespace' : 'cluster',
  };
}

/** kube-apiserver's answer to a request no authenticator accepts (no token, or a wrong one). */
const UNAUTHORIZED = JSON.stringify(statusBody(401, 'Unauthorized', undefined, 'Unauthorized'));

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const open = isLoopbackHost(opts.host);
  if (!open && !opts.token) throw new Error(`the API listens on ${opts.host}, beyond loopback: it needs a bearer token`);
  /** Whether a request carries the token; undefined once it has been answered 401. */
  const admit = (req: IncomingMessage, reply: (text: string) => void): boolean | undefined => {
    const authenticated = tokenMatches(req, opts.token);
    if (authenticated || open || PUBLIC_PATHS.has(requestUrl(req).pathname)) return authenticated;
    reply(UNAUTHORIZED);
    return undefined;
  };
  const limit: ApiLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const admit429 = admission(limit);
  const base: Context = { ...opts, limit, paginator: new Paginator(opts.continueTtlMs), openapi: currentOpenApi(opts), metrics: new ApiMetrics(opts.store),
    apiServices: new ApiServiceAvailability(opts.store), startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  /** Said by the front with every request it relays (front-protocol.ts FRONT_SECRET_HEADER). */
  const secret = randomUUID();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    // 'finish' once the response is handed over (before the client can ask again); 'close' for watches cut off.
    let counted = false;
    const count = () => { if (!counted) { counted = true; base.metrics.request(requestLabels(req), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9); } };
    res.on('finish', count);
    res.on('close', count);
    const authenticated = admit(req, (text) => {
      res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    if (authenticated === undefined) return;
    if (!admit429(req, res)) return;
    // The front's own headers count only with its secret (any process of this network namespace reaches the socket).
    const fromFront = req.headers[FRONT_SECRET_HEADER] === secret;
    if (!fromFront) { delete req.headers[FRONT_KEEP_HEADER]; delete req.headers[FRONT_LOCAL_HEADER]; }
    const ctx: Context = { ...base, authenticated };
    handle(req, res, ctx).catch((e) => {
      if (res.headersSent) return void res.end();
      if (e instanceof ApiError) {
        if (e.retryAfter) res.setHeader('retry-after', String(e.retryAfter));
        return sendStatus(res, e.code, e.message, e.details, e.reason);
      }
      sendStatus(res, 500, e instanceof Error ? e.message : String(e));
    });
  };
  // Slow clients: headers must arrive within headersTimeout and the whole request within requestTimeout (else 408);
  // both are checked every connectionsCheckingInterval, by the front (front-worker.ts), which owns the listening
  // socket. Responses (watches, log follows) are not bounded by these.
  const serverOptions = { headersTimeout: limit.headersTimeoutMs, requestTimeout: limit.requestTimeoutMs, connectionsCheckingInterval: limit.connectionsCheckingIntervalMs };
  /** Every answer of this thread first sends the front's replica the changes not yet sent: no client reads there an
   * object older than one it was shown here (a watch event is written within its change, before the change's own
   * send in a microtask). */
  const { write, end } = ServerResponse.prototype as unknown as Record<'write' | 'end', (...a: unknown[]) => unknown>;
  class FlushingResponse extends ServerResponse {
    override write(...args: any[]): boolean { base.front?.feed.flush(); return write.apply(this, args) as boolean; }
    override end(...args: any[]): this { base.front?.feed.flush(); return end.apply(this, args) as this; }
  }
  // This thread's server: reached only through the front, on an abstract unix socket (plain HTTP: the front holds TLS).
  const server = createServer({ ...serverOptions, ServerResponse: FlushingResponse }, onRequest);
  server.maxHeadersCount = 200;
  // exec, attach, port-forward (and cp, which is exec) ask to upgrade the connection: answer with the refusal.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const who = admit(req, (text) => socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`));
    if (who === undefined) return;
    const url = requestUrl(req);
    const text = JSON.stringify(statusBody(405, refusal(url.pathname, req.method ?? 'GET', opts)));
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nallow: GET, HEAD\r\nconnection: close\r\n\r\n${text}`);
  });
  const internal = internalSocketPath();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(internal, () => resolve());
  });
  const closeInternal = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  // Kinds served as stored, but for Secrets (what a client is shown depends on its token), Events (half the writes,
  // seldom read one by one) and custom kinds (registered later).
  const routes = frontRoutes(servedKinds().filter((k) => !k.custom && k.kind !== 'Secret' && k.kind !== 'Event'), servedAsStored);
  try {
    base.front = await startFront(opts.store, { host: opts.host, port: opts.port, tls: opts.tls, open, token: opts.token, serverOptions, internal, secret, routes, mainStallMs: limit.mainStallMs, maxKept: limit.frontObjects }, (l, code, seconds) => base.metrics.request(l, code, seconds));
  } catch (e) {
    await closeInternal();
    base.apiServices.stop();
    throw e;
  }
  const front = base.front;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${opts.host}:${front.port}`,
    port: front.port,
    close: async () => { base.apiServices.stop(); await front.close(); await closeInternal(); },
  };
}

/** Documents built for the CRDs as they are (by uid and resourceVersion) and the kinds served; rebuilt on a change. */
function currentOpenApi(opts: ApiServerOptions): () => Promise<OpenApiDocuments> {
  let key = '', docs: OpenApiDocuments | undefined;
  return async () => {
    const crds = await opts.store.list('CustomResourceDefinition');
    const next = [...crds.map((c) => `${c.metadata.uid}@${c.metadata.resourceVersion}`), ...servedKinds().map((k) => `${k.group}/${k.resource}:${k.versions}`)].join(',');
    if (!docs || next !== key) {
      const custom = crdOpenApi(crds);
      docs = openApiDocuments(servedKinds, {
        definitions: { ...custom.definitions, ...opts.openApiExtra?.definitions },
        paths: { ...custom.paths, ...opts.openApiExtra?.paths },
      });
      key = next;
    }
    return docs;
  };
}

/** A request body, JSON or Kubernetes protobuf (kubectl's choice for built-in kinds), at most 1 MiB (reviews are small). */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1 << 20) throw new ApiError(413, 'request body too large', 'RequestEntityTooLarge');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  try {
    if (isKubeProtobuf(req.headers['content-type'])) return decodeReview(body);
    return JSON.parse(body.toString('utf8') || 'null');
  } catch (e) {
    throw new ApiError(400, `the request body is not a valid ${isKubeProtobuf(req.headers['content-type']) ? 'protobuf' : 'JSON'} object: ${(e as Error).message}`, 'BadRequest');
  }
}

/** kubectl names its command in a header; cordon, uncordon and drain only report a refused PATCH, so they are refused at their first read. */
const NODE_WRITERS = /^kubectl (cordon|uncordon|drain)\b/;

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const url = requestUrl(req);
  if (url.malformed) throw new ApiError(400, `malformed request path: ${url.malformed}`, 'BadRequest');
  if (req.method === 'POST') {
    const isReview = /^\/apis\/(authorization|authentication)\.k8s\.io\/v1\//.test(url.pathname);
    if (isReview) {
      let review: unknown;
      try {
        review = answerReview(url.pathname, await readBody(req), ctx);
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw new ApiError(400, (e as Error).message, 'BadRequest');
      }
      if (review) return sendJson(res, 201, review);
    }
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendStatus(res, 405, refusal(url.pathname, req.method ?? '', ctx));
  }
  // The sync's report, with the ports this serve could not open on the shared host (model/port-conflict.ts).
  const status = async (): Promise<StatusReport | undefined> => {
    const s = await ctx.store.getMeta<StatusReport>('status', { shared: true }); // only read and serialised
    if (!s) return s;
    const portConflicts = (await Promise.all(PORT_CONFLICT_METAS.map((k) => ctx.store.getMeta<PortConflict[]>(k, { shared: true })))).flatMap((l) => l ?? []);
    return { ...s, portConflicts };
  };
  switch (url.pathname) {
    case '/healthz': case '/livez': case '/readyz':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    case '/version':
      return sendJson(res, 200, { major: '1', minor: '32', gitVersion: `v1.32.0+convergit.${ctx.version}`, platform: `${process.platform}/${process.arch}`, goVersion: process.version, compiler: 'convergit' });
    case '/status':
      if (url.searchParams.has('summary')) {
        const s = await status();
        return sendJson(res, 200, s ? await summarise(s, ctx.store) : { state: 'idle', message: 'starting' });
      }
      return sendJsonStreamed(res, 200, { ...((await status()) ?? { state: 'idle', message: 'starting' }), workloads: await workloads(ctx.store, reachable(ctx.host)) });
    case '/plan':
      return servePlan(res, ctx, url.searchParams);
    case '/metrics': {
      ctx.front?.takeCounts();
      const m = await ctx.metrics.text();
      res.writeHead(200, { 'content-type': m.contentType });
      return void res.end(m.body);
    }
    case '/':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(renderStatusPage(await status(), await workloads(ctx.store, reachable(ctx.host)), url.searchParams));
  }
  if (url.pathname.startsWith('/openapi/')) return serveOpenApi(req, res, await ctx.openapi(), url.pathname);
  const aggregated = wantsAggregated(req.headers.accept) ? aggregatedDiscovery(url.pathname) : undefined;
  if (aggregated) {
    const text = JSON.stringify(aggregated);
    res.writeHead(200, { 'content-type': AGGREGATED_TYPE, 'content-length': Buffer.byteLength(text) });
    return void res.end(text);
  }
  const disc = discovery(url.pathname, String(req.headers[FRONT_LOCAL_HEADER] ?? `${req.socket.localAddress}:${req.socket.localPort}`));
  if (disc) return sendJson(res, 200, disc);
  const path = parseResourcePath(url.pathname);
  if (path instanceof Error) return sendStatus(res, 404, path.message);
  if (!path) return sendStatus(res, 404, `the server could not find the requested resource (${url.pathname})`);
  if (path.subresource && STREAMING_SUBRESOURCES.has(path.subresource)) {
    res.setHeader('allow', 'GET, HEAD');
    return sendStatus(res, 405, refusal(url.pathname, req.method ?? 'GET', ctx));
  }
  if (path.info.kind === 'ComponentStatus' && !path.info.group) return serveComponentStatuses(req, res, path, url.searchParams, ctx);
  const command = NODE_WRITERS.exec(String(req.headers['kubectl-command'] ?? ''))?.[1];
  if (command && path.info.kind === 'Node') return sendStatus(res, 405, nodeCommandRefusal(command, ctx));
  if (path.subresource === 'log' && path.info.kind === 'Pod' && ctx.podLogs) return serveLog(res, ctx, path, url.searchParams);
  return serveResource(req, res, ctx, path, url.searchParams);
}

/** OpenAPI v2 as JSON (kubectl asks for protobuf first: 406 unless JSON is also acceptable), v3 index and documents. */
function serveOpenApi(req: IncomingMessage, res: ServerResponse, openapi: OpenApiDocuments, pathname: string): void {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/openapi/v2') {
    const accept = req.headers.accept ?? '*/*';
    if (!/application\/json|\*\/\*|application\/\*/.test(accept)) {
      return sendStatus(res, 406, `only application/json is served for /openapi/v2, not ${accept}`);
    }
    return sendJson(res, 200, openapi.v2());
  }
  if (p === '/openapi/v3') return sendJson(res, 200, openapi.v3Index());
  const gv = openapi.v3(p.slice('/openapi/v3/'.length));
  if (!gv) return sendStatus(res, 404, `the server could not find the requested resource (${pathname})`);
  res.setHeader('etag', `"${gv.hash}"`);
  return sendJson(res, 200, gv.doc);
}

function queryOf(q: URLSearchParams, kind: string): { labels?: Requirement[]; fields: FieldRequirement[]; include: IncludeObject; limit?: number } {
  let labels: Requirement[] | undefined;
  try {
    labels = q.get('labelSelector') ? parseSelector(q.get('labelSelector')!) : undefined;
  } catch (e) {
    throw new ApiError(400, `labelSelector: ${(e as Error).message}`, 'BadRequest');
  }
  let fields: FieldRequirement[];
  try {
    fields = parseFieldSelector(kind, q.get('fieldSelector') ?? '');
  } catch (e) {
    throw new ApiError(400, (e as Error).message, 'BadRequest');
  }
  let include: IncludeObject;
  try {
    include = parseIncludeObject(q.get('includeObject'));
  } catch (e) {
    throw new ApiError(400, (e as Error).message, 'BadRequest');
  }
  const limitText = q.get('limit');
  if (limitText !== null && limitText !== '' && !/^\d+$/.test(limitText)) throw new ApiError(400, `limit: must be a non-negative integer, not ${JSON.stringify(limitText)}`, 'BadRequest');
  const limit = limitText ? Number(limitText) || undefined : undefined;
  return { labels, fields, include, limit };
}

/** autoscaling/v1 Scale of a scalable object, as its `scale` subresource shows it. */
function scaleOf(o: KubeObject): unknown {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = o.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 1 },
    status: { replicas: o.status?.replicas ?? 0, selector: o.kind === 'ReplicationController' ? Object.entries(o.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') : formatSelector(o.spec?.selector) },
  };
}

async function serveResource(req: IncomingMessage, res: ServerResponse, ctx: Context, p: ResourcePath, q: URLSearchParams): Promise<void> {
  const { info } = p;
  const { store } = ctx;
  const view = viewOf(info, p.version, await viewDeps(ctx, info));
  if (info.kind === 'Secret' && !ctx.authenticated) view.present = redactSecret;
  const show = (o: KubeObject) => (view.present ? view.present(o) : o);
  /** Served as stored (no derivation, nothing hidden): their JSON is made once per version (model/stored-json.ts). */
  const asStored = !view.present && view.sources.every((s) => !s.derive);
  const namespace = info.namespaced ? p.namespace : undefined;
  // metrics-server's storage has no Watch: the LIST handler answers a watch with MethodNotSupported.
  if (isResourceMetrics(info) && isWatch(q.get('watch'))) return sendStatus(res, 405, `watch is not supported on resources of kind "${info.resource}.${info.group}"`, { group: info.group, kind: info.resource });
  if (isResourceMetrics(info) && !p.subresource) {
    const { labels, fields, include } = queryOf(q, 'PodMetrics');
    return serveResourceMetrics(res, store, info, { namespace, name: p.name, labels, fields, table: wantsTable(req.headers.accept) ? include : undefined });
  }
  const { labels, fields, include, limit } = queryOf(q, info.kind);
  const table = wantsTable(req.headers.accept);
  const columns = table && info.custom ? await customColumns(store, p) : undefined;
  if (p.subresource) {
    const served = (p.subresource === 'status' && hasStatus(info)) || (p.subresource === 'scale' && SCALABLE.has(info.resource));
    if (!served || !p.name) return sendStatus(res, 404, `the server could not find the requested resource (${info.resource}/${p.subresource})`);
  }
  if (isWatch(q.get('watch'))) {
    if (p.name) fields.push({ field: 'metadata.name', op: '=', value: p.name });
    return serveWatch(req, res, store, view, { namespace, labels, fields }, q, include, { bookmarkIntervalMs: ctx.bookmarkIntervalMs ?? 60_000, maxBufferedBytes: ctx.limit.watchBufferBytes }, columns);
  }
  const rv = parseResourceVersion(q.get('resourceVersion'));
  if (rv) await waitForResourceVersion(store, rv);

  if (p.name) {
    // The front asked to keep it (it relays only GETs it would answer itself, of kinds served as stored): wanted
    // before the read, so that a change between the read and the offer is sent too.
    const front = req.headers[FRONT_KEEP_HEADER] && asStored && !p.subresource && !table ? ctx.front?.feed : undefined;
    front?.want(info.kind, namespace ?? '', p.name);
    const found = await getView(store, view, namespace, p.name);
    const obj = found && show(found);
    if (!obj) front?.unwant(info.kind, namespace ?? '', p.name);
    if (!obj) return sendStatus(res, 404, `${info.resource}${info.group ? `.${info.group}` : ''} "${p.name}" not found`, { name: p.name, group: info.group, kind: info.resource });
    if (found === obj) front?.offer(found);
    if (p.subresource === 'scale') return sendJson(res, 200, scaleOf(obj));
    if (table) return sendJson(res, 200, toTable(info.kind, [obj], obj.metadata.resourceVersion ?? '', include, {}, columns));
    return sendJson(res, 200, obj, asStored ? storedJson(obj) : undefined);
  }
  let page;
  try {
    page = await ctx.paginator.page(limit, q.get('continue') || undefined, () => listView(store, view, { namespace, labels, fields }));
  } catch (e) {
    if (!(e instanceof ContinueError)) throw e;
    if (e.code === 400) throw new ApiError(400, e.message, 'BadRequest');
    return sendJson(res, 410, { ...statusBody(410, e.message, undefined, 'Expired'), metadata: { continue: e.continueToken } });
  }
  if (view.present) page = { ...page, items: page.items.map(show) }; // else the page as it is: no copy of a big list
  const listMeta = { ...(page.continue ? { continue: page.continue, remainingItemCount: page.remainingItemCount } : {}) };
  if (table) return sendJsonStreamed(res, 200, toTable(info.kind, page.items, page.resourceVersion, include, listMeta, columns) as unknown as Record<string, unknown>);
  return sendJsonStreamed(res, 200, { kind: `${info.kind}List`, apiVersion: apiVersionOf({ group: info.group, version: p.version }), metadata: { resourceVersion: page.resourceVersion, ...listMeta }, items: page.items },
    asStored ? { item: storedJson as (v: unknown) => string } : {});
}

/** APIServices need the Services and Endpoints, and the Local ones the cluster's birth (kube-system's creation). */
async function viewDeps(ctx: Context, info: ResourcePath['info']): Promise<ViewDeps> {
  if (info.kind !== 'APIService' || info.group !== 'apiregistration.k8s.io') return {};
  await ctx.apiServices.ready();
  const born = (await ctx.store.get('Namespace', undefined, 'kube-system', { shared: true }))?.metadata.creationTimestamp ?? ctx.startedAt;
  return { apiServices: ctx.apiServices, localApiServices: localApiServices(born) };
}

/** componentstatuses: probed on each read; the deprecation warning on every answer, as kube-apiserver sends it. */
async function serveComponentStatuses(req: IncomingMessage, res: ServerResponse, p: ResourcePath, q: URLSearchParams, ctx: Context): Promise<void> {
  res.setHeader('warning', COMPONENT_STATUS_WARNING);
  if (p.subresource) return sendStatus(res, 404, `the server could not find the requested resource (${p.info.resource}/${p.subresource})`);
  // Its REST storage has no Watch: the LIST handler answers a watch with MethodNotSupported.
  if (isWatch(q.get('watch'))) return sendStatus(res, 405, `watch is not supported on resources of kind "${p.info.resource}"`, { kind: p.info.resource });
  const { labels, fields, include } = queryOf(q, 'ComponentStatus');
  const table = wantsTable(req.headers.accept);
  const untable = <T extends { metadata: Record<string, unknown> }>(t: T) => { delete t.metadata.resourceVersion; return t; };
  if (p.name) {
    const one = await probeComponent(ctx.store, p.name);
    // A plain error in its Get, which kube-apiserver turns into a 500 with no reason.
    if (!one) return sendStatus(res, 500, `Component not found: ${p.name}`, undefined, '');
    return sendJson(res, 200, table ? untable(toTable('ComponentStatus', [one], '', include)) : one);
  }
  const items = (await probeComponents(ctx.store)).filter((o) => passes({ labels, fields }, o));
  if (table) return sendJson(res, 200, untable(toTable('ComponentStatus', items, '', include)));
  // List items carry no kind and apiVersion, as kube-apiserver encodes a typed list.
  return sendJson(res, 200, { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items: items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest) });
}

/** A custom resource's columns, from its CRD (named `<plural>.<group>`) in the version asked for. */
async function customColumns(store: Store, p: ResourcePath) {
  const crd = await store.get('CustomResourceDefinition', undefined, `${p.info.resource}.${p.info.group}`);
  return crd ? crdColumns(crd, p.version) : undefined;
}

/** `GET /plan?ref=<ref>[&output=json|text|markdown]`: a pull request's plan against what runs now. */
async function servePlan(res: ServerResponse, opts: Context, q: URLSearchParams): Promise<void> {
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

/** sinceSeconds (> 0) or sinceTime (RFC 3339), at most one, as kube-apiserver validates PodLogOptions. */
function sinceOf(q: URLSearchParams): Date | undefined {
  const seconds = q.get('sinceSeconds'), time = q.get('sinceTime');
  const bad = (m: string) => Object.assign(new Error(m), { status: 400 });
  if (seconds !== null && time !== null) throw bad('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (seconds !== null) {
    if (!/^\d+$/.test(seconds) || Number(seconds) < 1) throw bad(`sinceSeconds: Invalid value: ${JSON.stringify(seconds)}: must be greater than 0`);
    return new Date(Date.now() - Number(seconds) * 1000);
  }
  if (time !== null) {
    const t = Date.parse(time);
    if (!/^\d{4}-\d\d-\d\dT/.test(time) || Number.isNaN(t)) throw bad(`sinceTime: Invalid value: ${JSON.stringify(time)}: must be an RFC 3339 time`);
    return new Date(t);
  }
  return undefined;
}

/** `kubectl logs`: the container's log as plain text. */
async function serveLog(res: ServerResponse, opts: Context, p: ResourcePath, q: URLSearchParams): Promise<void> {
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
      previous: isWatch(q.get('previous')),
      timestamps: isWatch(q.get('timestamps')),
      since: sinceOf(q),
    };
    if (isWatch(q.get('follow')) && !o.previous && opts.followPodLog) {
      const stop = new AbortController();
      res.on('close', () => stop.abort());
      await opts.followPodLog(pod, o, (chunk) => {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        if (res.destroyed) return;
        res.write(chunk);
        if (res.writableLength > opts.limit.watchBufferBytes) res.destroy(); // a client that stopped reading

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

