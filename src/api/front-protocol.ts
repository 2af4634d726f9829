// What the API's main thread and its front (front-worker.ts) say to each other: small and free of the model's
// modules, so the front's thread loads little.

/** A kind whose named objects the front answers from its replica, at one path prefix (a group version). */
export interface FrontRoute {
  /** `/api/v1` or `/apis/{group}/{version}`. */
  prefix: string;
  resource: string;
  kind: string;
  group: string;
  /** The kind's preferred version: what the main thread's request metrics name (server.ts requestLabels). */
  version: string;
  namespaced: boolean;
}

export const routeKey = (prefix: string, resource: string) => `${prefix}/${resource}`;

/** A kept object's key, on both sides of the feed. */
export const replicaKey = (kind: string, namespace: string, name: string) => `${kind}\0${namespace}\0${name}`;

/** main → front, on the feed's port: objects to keep as flat pairs (replicaKey, then the JSON text,
 * or null for one no longer kept), and heartbeats (when the main thread's timer sent them, Date.now()). */
export interface FeedMessage { changes?: (string | null)[]; beat?: number }

/** front → main, on the feed's port: the keys of kept objects it answered since its last such message. */
export interface HitsMessage { hits: string[] }

/** What the front is started with (its workerData, with the feed's and the counts' ports). */
export interface FrontData {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  /** Loopback: no token needed (auth.ts). */
  open: boolean;
  token?: string;
  serverOptions: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
  /** The main thread's server: an abstract unix socket (`\0…`). */
  internal: string;
  /** Sent in FRONT_SECRET_HEADER with every relayed request: the main thread trusts the front's other headers only
   * with it (any process of this network namespace can reach an abstract socket). */
  secret: string;
  routes: FrontRoute[];
  /** A main thread whose heartbeat is older than this is stalled or wedged: health checks go to it to find out. */
  mainStallMs: number;
  /** Objects kept at most (ReplicaFeed's). */
  maxKept: number;
}

export const FRONT_SECRET_HEADER = 'x-convergit-front';

/** The address and port the client connected to, as the front saw them (discovery names it back). */
export const FRONT_LOCAL_HEADER = 'x-convergit-front-local';

/** On a request the front relays because it does not keep the object it names: keep it from this answer on. */
export const FRONT_KEEP_HEADER = 'x-convergit-front-keep';

/** Health paths, answered by the front while the main thread's heartbeat is fresh. */
export const HEALTH_PATHS = new Set(['/healthz', '/livez', '/readyz']);
