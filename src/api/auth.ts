// Who may read the API. On loopback anyone on this machine may (the quick start and plain curl keep working); on
// any other address every request but the public health and version endpoints needs the bearer token, answered
// 401 Unauthorized as kube-apiserver answers a request no authenticator accepts. Secret `data` goes only to a
// request carrying the token, on any address: a Secret is the one thing another user of the machine must not read.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { KubeObject } from '../model/object.ts';

/**
 * Open without a token on any address: kube-apiserver's `system:public-info-viewer` role lets anonymous users read
 * these, and load balancers and probes need them without credentials. They say nothing about the workloads.
 */
export const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** 127.0.0.0/8, ::1 and localhost: only processes on this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || /^::ffff:127\./i.test(h);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time (hashes first, so lengths leak nothing either). */
export function tokenMatches(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(String(req.headers.authorization ?? ''));
  return !!m && timingSafeEqual(digest(m[1]), digest(token));
}

export const REDACTED_ANNOTATION = 'convergit.dev/data-redacted';

/** A Secret without its values (keys kept, so `kubectl get secrets` counts them), saying why; other objects as they are. */
export function redactSecret(o: KubeObject): KubeObject {
  if (o.kind !== 'Secret' || (!o.data && !o.stringData)) return o;
  const blank = (m: unknown) => (m && typeof m === 'object' ? Object.fromEntries(Object.keys(m).map((k) => [k, ''])) : m);
  const { stringData: _dropped, ...rest } = o as KubeObject & { stringData?: unknown };
  return {
    ...rest,
    metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [REDACTED_ANNOTATION]: 'values are served only with the bearer token (convergit kubeconfig)' } },
    data: blank({ ...(o.data as object), ...(o.stringData as object) }),
  } as KubeObject;
}
