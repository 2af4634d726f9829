// JSON responses in Kubernetes' shapes: objects, lists and Status errors.
import type { ServerResponse } from 'node:http';
import { TimeSlice } from '../model/time-slice.ts';

/** `text`: the body's JSON when already made (a stored object's, model/stored-json.ts). */
export function sendJson(res: ServerResponse, code: number, body: unknown, text = JSON.stringify(body)): void {
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Top-level arrays longer than this are streamed; shorter bodies go out as one string. */
const STREAM_FROM = 200;
/** About this many characters per chunk written (bigger chunks cost twice the CPU: 128 kB and more, measured). */
const CHUNK = 64 * 1024;
/**
 * A turn of the event loop spends about this long serialising before it yields to other requests. Yielding after
 * every chunk instead made a LIST of 30,000 pods (57 MiB) wait ~900 times behind everything else queued in the
 * loop (1,000 nodes' heartbeats, the controllers).
 */
const TURN_MS = 4;
/**
 * Written but not yet taken by the client, at most (backpressure). Waiting for 'drain' after every chunk, as soon as
 * the socket's 16 kB mark was passed, made each of a 57 MiB LIST's ~900 chunks wait a turn of the loop behind
 * everything else queued there, for no memory saved worth having.
 */
const MAX_BUFFERED = 4 << 20;

/** Resolves when the client has taken what was written, or has gone. */
const drained = (res: ServerResponse) => new Promise<void>((resolve) => {
  const done = () => {
    res.off('drain', done);
    res.off('close', done);
    resolve();
  };
  res.on('drain', done);
  res.on('close', done);
});

const isBig = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > STREAM_FROM;
/** An object with a big array among its own values (a list, /status, /status's workloads). */
const holdsBig = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).some(isBig);

/** The body's JSON, its top-level arrays' elements made by `item` (a small list's items). */
function withItems(body: Record<string, unknown>, item: (v: unknown) => string): string {
  const parts: string[] = [];
  for (const [k, x] of Object.entries(body)) {
    if (x === undefined || typeof x === 'function') continue; // as JSON.stringify leaves them out
    parts.push(`${JSON.stringify(k)}:${Array.isArray(x) ? `[${x.map((e) => item(e)).join(',')}]` : JSON.stringify(x)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The JSON of `v` in pieces, big arrays element by element (a generator: no promise per element). */
function* pieces(v: unknown, item: (v: unknown) => string): Generator<string> {
  if (isBig(v)) {
    yield '[';
    for (let i = 0; i < v.length; i++) yield (i ? ',' : '') + item(v[i]);
    yield ']';
    return;
  }
  if (!holdsBig(v)) {
    yield JSON.stringify(v);
    return;
  }
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || typeof x === 'function') continue; // as JSON.stringify leaves them out
    yield `${first ? '{' : ','}${JSON.stringify(k)}:`;
    first = false;
    yield* pieces(x, item);
  }
  yield first ? '{}' : '}';
}

/**
 * The same JSON as sendJson, but big arrays (a list's items, a table's rows, /status's objects and pods) are
 * serialised element by element and written in chunks as they fill: a 30,000-item list neither builds one giant
 * string nor stalls the other requests. The event loop turns every few ms of work, and the writing waits while the
 * client has not taken the last chunk (backpressure). Stops early when the client goes away. `item` makes an
 * element's JSON (storedJson for stored objects, whose text is made once, so a big list is a concatenation).
 */
export async function sendJsonStreamed(res: ServerResponse, code: number, body: Record<string, unknown>, opts: { item?: (v: unknown) => string } = {}): Promise<void> {
  if (!holdsBig(body)) return sendJson(res, code, body, opts.item && withItems(body, opts.item));
  const item = opts.item ?? ((v: unknown) => JSON.stringify(v) ?? 'null');
  res.writeHead(code, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  let piece = '';
  const slice = new TimeSlice(TURN_MS);
  let n = 0;
  for (const text of pieces(body, item)) {
    piece += text;
    // The clock is read every 64 pieces: elements serialised here (not stored ones) may be slow to make.
    const late = (++n & 63) === 0 && slice.over;
    if (piece.length < CHUNK && !late) continue;
    res.write(piece);
    piece = '';
    if (res.writableLength > MAX_BUFFERED) await drained(res);
    if (res.destroyed) return;
    if (late || slice.over) await slice.next();
  }
  if (!res.destroyed) res.end(piece);
}

const REASONS: Record<number, string> = {
  400: 'BadRequest', 404: 'NotFound', 405: 'MethodNotAllowed', 406: 'NotAcceptable', 410: 'Expired', 413: 'RequestEntityTooLarge',
  422: 'Invalid', 500: 'InternalError', 504: 'Timeout',
};

/** A Kubernetes `Status` failure body. */
export function statusBody(code: number, message: string, details?: Record<string, unknown>, reason?: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? 'Unknown', ...(details ? { details } : {}), code };
}

/** A Kubernetes `Status` failure, which kubectl prints as `Error from server (Reason): message`. */
export function sendStatus(res: ServerResponse, code: number, message: string, details?: Record<string, unknown>, reason?: string): void {
  sendJson(res, code, statusBody(code, message, details, reason));
}
