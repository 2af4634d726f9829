// Kubernetes watch streams: one JSON event per line. With resourceVersion unset or "0" (or sendInitialEvents=true)
// the current objects come first as ADDED, then every change; with a version, the changes after it. BOOKMARKs when
// asked for, timeoutSeconds honoured, errors as kube-apiserver gives them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import { storedJson } from '../model/stored-json.ts';
import { StoreError, type Store, type WatchEvent } from '../store/store.ts';
import { ApiError, parseResourceVersion, waitForResourceVersion } from './resource-version.ts';
import { toTable, wantsTable, type Column, type IncludeObject } from './tables.ts';
import { filtersDerived, isPromise, listView, passes, served, type Filter, type Source, type View } from './views.ts';
import { matchesFields } from './field-selector.ts';

export interface WatchTiming {
  /** How often a BOOKMARK is sent when allowWatchBookmarks=true (kube-apiserver: about a minute). */
  bookmarkIntervalMs: number;
  /** A client that lets more than this queue up unread is cut off (kube-apiserver closes an unresponsive watcher). */
  maxBufferedBytes?: number;
}

/** `watch=true`, `1` or `True` (Python's client) all ask for a watch, as Go's strconv.ParseBool reads them. */
export const isWatch = (v: string | null) => v !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
const isTrue = isWatch;
const rvOf = (o: KubeObject) => Number(o.metadata.resourceVersion ?? 0);

const invalid = (field: string, message: string) =>
  new ApiError(422, `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${message}`, 'Invalid',
    { group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ reason: 'FieldValueForbidden', message: `Forbidden: ${message}`, field }] });

/** Checks the options first (errors are plain HTTP errors), then streams until the client leaves or the timeout ends it. */
export async function serveWatch(req: IncomingMessage, res: ServerResponse, store: Store, view: View, filter: Filter,
  q: URLSearchParams, include: IncludeObject, timing: WatchTiming, columns?: Column[]): Promise<void> {
  const rv = parseResourceVersion(q.get('resourceVersion'));
  const timeoutText = q.get('timeoutSeconds');
  if (timeoutText !== null && !/^\d+$/.test(timeoutText)) throw new ApiError(400, `timeoutSeconds: must be a non-negative integer, not ${JSON.stringify(timeoutText)}`, 'BadRequest');
  const bookmarks = isTrue(q.get('allowWatchBookmarks'));
  const sendInitial = q.get('sendInitialEvents');
  const match = q.get('resourceVersionMatch');
  if (sendInitial !== null) {
    if (match !== 'NotOlderThan') throw invalid('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    if (isTrue(sendInitial) && !bookmarks) throw invalid('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true');
  } else if (match) throw invalid('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  const initial = sendInitial !== null ? isTrue(sendInitial) : rv === undefined || rv === 0;
  if (rv !== undefined && rv > 0) await waitForResourceVersion(store, rv);

  const table = wantsTable(req.headers.accept);
  const kind = view.info.kind, apiVersion = apiVersionOf({ group: view.info.group, version: view.version });
  // Objects served as stored (no derivation, nothing hidden, no table): their JSON is made once per version and
  // shared by every watch, list and GET (model/stored-json.ts).
  const asStored = !table && !view.present && view.sources.every((s) => !s.derive);
  const send = (type: string, object: unknown, json = JSON.stringify(object)) => {
    if (res.destroyed || res.writableEnded) return; // an event derived asynchronously may come after the end
    res.write(`{"type":${JSON.stringify(type)},"object":${json}}\n`);
    // Memory stays bounded whatever the client does: one that stopped reading loses its watch and must re-list.
    if (timing.maxBufferedBytes !== undefined && res.writableLength > timing.maxBufferedBytes) res.destroy();
  };
  const sendObject = (type: string, served: KubeObject) => {
    const o = view.present ? view.present(served) : served;
    if (asStored) return send(type, o, storedJson(o));
    return send(type, table ? toTable(kind, [o], o.metadata.resourceVersion ?? '', include, {}, columns) : o);
  };
  /** Events derived asynchronously and not yet sent (see below); a bookmark waits for them, to keep versions in order. */
  let tail: Promise<void> | undefined;
  const bookmark = async (annotations?: Record<string, string>) => {
    if (tail) await tail;
    send('BOOKMARK', { kind, apiVersion, metadata: { resourceVersion: await store.resourceVersion(), ...(annotations ? { annotations } : {}) } });
  };

  // Headers go out at once: a client waits for them before it reads any event.
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  res.flushHeaders();
  // Every source watches from one version (the list's, the one asked for, or now), so none misses a change that
  // another sees.
  let from = rv !== undefined && rv > 0 ? String(rv) : undefined;
  if (initial) {
    const list = await listView(store, view, filter);
    for (const o of list.items) sendObject('ADDED', o);
    from = list.resourceVersion;
    if (sendInitial !== null && bookmarks) await bookmark({ 'k8s.io/initial-events-end': 'true' });
  }
  from ??= await store.resourceVersion();

  // Events leave in the store's version order, as kube-apiserver's watch cache sends them. While the sources are
  // being registered their replays are held, then sent sorted by version (a watch of EndpointSlices spans two
  // stored kinds); after that the store delivers every change in order, across kinds. An event whose object is
  // derived asynchronously keeps its place: the ones after it wait.
  type Pending = { type: string; object: KubeObject; source?: Source };
  let held: Pending[] | undefined = [];
  const prepare = (p: Pending): KubeObject | Promise<KubeObject | undefined> | undefined => {
    const out = p.source ? served(p.source, p.object, true) : p.object;
    // Stored objects were filtered by the store; derived ones (and derived changes) are filtered here.
    const keep = (o: KubeObject | undefined) => (o && (!p.source || filtersDerived(p.source)) && !passes(filter, o) ? undefined : o);
    return isPromise(out) ? out.then(keep) : keep(out);
  };
  const fail = (e: unknown) => { if (!res.destroyed) res.destroy(e instanceof Error ? e : new Error(String(e))); };
  const dispatch = (p: Pending) => {
    if (!tail) {
      const o = prepare(p);
      if (!isPromise(o)) return void (o && sendObject(p.type, o));
      tail = o.then((x) => void (x && sendObject(p.type, x)));
    } else {
      tail = tail.then(async () => { const x = await prepare(p); if (x) sendObject(p.type, x); });
    }
    const t = tail = tail.catch(fail);
    void t.then(() => { if (tail === t) tail = undefined; });
  };
  const push = (p: Pending) => (held ? held.push(p) : dispatch(p));
  const stops: (() => void)[] = [];
  try {
    for (const source of view.sources) {
      stops.push(await store.watch({
        // Shared: events are only read and serialised (as listView's items), not copied once per watch.
        kind: source.storeKind, namespace: filter.namespace, resourceVersion: from, shared: true,
        // Derived objects are filtered after deriving; stored ones in the store, so entering/leaving a selector is seen.
        ...(filtersDerived(source) ? {} : { labelSelector: filter.labels, match: filter.fields?.length ? (o: KubeObject) => matchesFields(filter.fields!, o) : undefined }),
      }, (e: WatchEvent) => push({ type: e.type, object: e.object, source })));
    }
    if (view.changes) stops.push(view.changes(Number(from), (object) => push({ type: 'MODIFIED', object })));
  } catch (e) {
    for (const s of stops) s();
    if (e instanceof StoreError && e.reason === 'Gone') {
      send('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410, message: e.message });
      return void res.end();
    }
    throw e;
  }
  const replayed = held.sort((a, b) => rvOf(a.object) - rvOf(b.object));
  held = undefined;
  for (const p of replayed) dispatch(p);
  const timers: NodeJS.Timeout[] = [];
  const end = () => { for (const s of stops.splice(0)) s(); for (const t of timers) clearTimeout(t); };
  res.on('close', end);
  if (bookmarks) timers.push(setInterval(() => void bookmark().catch(() => {}), timing.bookmarkIntervalMs));
  if (timeoutText !== null && Number(timeoutText) > 0) {
    timers.push(setTimeout(async () => {
      if (bookmarks) await bookmark().catch(() => {}); // as kube-apiserver does shortly before a watch times out
      end();
      res.end();
    }, Number(timeoutText) * 1000));
  }
}
