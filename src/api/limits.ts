// Caps against abusive or broken clients, as kube-apiserver has them: a request body over the limit is 413 before
// it is read; more requests at once than --max-requests-inflight (long-running watches and log follows counted
// apart) are 429 with Retry-After; headers or a request that arrive too slowly are 408 (Node's timeouts); a watch
// whose client does not read is closed once its buffer is full ("Forcing watcher close due to unresponsiveness").
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusBody } from './responses.ts';
import { HEALTH_PATHS } from './front-protocol.ts';

export interface ApiLimits {
  /** Request bodies larger than this are refused, 413 (kube-apiserver's --max-request-body-bytes: 3 MiB). */
  maxBodyBytes: number;
  /** Requests other than watches served at once (kube-apiserver's --max-requests-inflight: 400). */
  maxInflight: number;
  /** Watches and log follows open at once. */
  maxWatches: number;
  /** What a watch may have queued for a client that does not read before it is closed. */
  watchBufferBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  connectionsCheckingIntervalMs: number;
  /** The front answers health checks itself while the main thread's last heartbeat is younger than this (front-worker.ts). */
  mainStallMs: number;
  /** Objects the front keeps at most, the one read longest ago dropped first (replica-feed.ts). */
  frontObjects: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxBodyBytes: 3 * 1024 * 1024,
  maxInflight: 400,
  maxWatches: 10_000,
  watchBufferBytes: 16 * 1024 * 1024,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  connectionsCheckingIntervalMs: 5_000,
  mainStallMs: 10_000,
  frontObjects: 10_000,
};

/** The request's URL; `malformed` says why its path cannot be read (a bad %-escape), as Go's server answers 400. */
export function requestUrl(req: IncomingMessage): URL & { malformed?: string } {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return Object.assign(new URL('http://localhost/'), { malformed: `invalid URL ${JSON.stringify(String(req.url).slice(0, 200))}` });
  }
  for (const part of url.pathname.split('/')) {
    try {
      decodeURIComponent(part);
    } catch {
      return Object.assign(url, { malformed: `invalid escape in ${JSON.stringify(part.slice(0, 200))}` });
    }
  }
  return url;
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
/** Watches and `logs -f` hold their request open indefinitely (kube-apiserver's "long-running" requests). */
const isLongRunning = (url: URL) => TRUE.has(url.searchParams.get('watch') ?? '') || (url.pathname.endsWith('/log') && TRUE.has(url.searchParams.get('follow') ?? ''));

function refuse(res: ServerResponse, code: number, body: object, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Admits a request or answers it (413, 429) and returns false; admitted requests are counted until they close. */
export function admission(limits: ApiLimits): (req: IncomingMessage, res: ServerResponse) => boolean {
  let inflight = 0, watches = 0;
  return (req, res) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > limits.maxBodyBytes) {
      // The body is not read: the connection closes after the answer rather than draining gigabytes.
      refuse(res, 413, statusBody(413, `Request entity too large: limit is ${limits.maxBodyBytes}`, undefined, 'RequestEntityTooLarge'), { connection: 'close' });
      return false;
    }
    const url = requestUrl(req);
    // Health checks are never refused, as kube-apiserver's priority and fairness exempts them (its `probes` FlowSchema).
    if ((req.method === 'GET' || req.method === 'HEAD') && HEALTH_PATHS.has(url.pathname)) return true;
    const long = isLongRunning(url);
    if (long ? watches >= limits.maxWatches : inflight >= limits.maxInflight) {
      refuse(res, 429, statusBody(429, 'Too many requests, please try again later.', { retryAfterSeconds: 1 }, 'TooManyRequests'), { 'retry-after': '1' });
      return false;
    }
    if (long) watches++; else inflight++;
    res.once('close', () => { if (long) watches--; else inflight--; });
    return true;
  };
}
