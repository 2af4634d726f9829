// The TLS contexts of the ingress listener, by server name (SNI): each from the `kubernetes.io/tls` Secret an
// Ingress' `spec.tls` names for that host; the default certificate for any other name, and when a Secret is
// missing or invalid (then a problem is reported, once per Ingress and Secret, as an event).
import tls, { type SecureContext } from 'node:tls';
import type { KubeObject } from '../../model/object.ts';
import { hostMatches, normalizeHost } from './matcher.ts';
import type { TlsTable } from './routes.ts';

export interface TlsProblem { ingress: string; secret: string; message: string }

export interface TlsContexts {
  /** The context for a server name; undefined: the default certificate's. */
  contextFor(servername: string | undefined): SecureContext | undefined;
  problems: TlsProblem[];
}

/** A context from a Secret's `tls.crt` and `tls.key`, or why there is none. */
function fromSecret(secret: KubeObject | undefined, name: string): SecureContext | string {
  if (!secret) return `Secret ${name} does not exist`;
  if (secret.type !== 'kubernetes.io/tls') return `Secret ${name} is of type ${secret.type ?? 'Opaque'}, not kubernetes.io/tls`;
  const data = (secret.data ?? {}) as Record<string, string>;
  const str = (secret.stringData ?? {}) as Record<string, string>;
  const field = (k: string) => str[k] ?? (data[k] !== undefined ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const cert = field('tls.crt'), key = field('tls.key');
  if (!cert || !key) return `Secret ${name} has no ${!cert ? 'tls.crt' : 'tls.key'}`;
  try {
    return tls.createSecureContext({ cert, key });
  } catch (e) {
    return `Secret ${name} holds no usable certificate and key: ${(e as Error).message}`;
  }
}

/** The contexts for `table`, reading Secrets with `secretOf(namespace/name)`. */
export function tlsContexts(table: TlsTable, secretOf: (key: string) => KubeObject | undefined): TlsContexts {
  const problems: TlsProblem[] = [];
  const built = new Map<string, SecureContext | undefined>();
  const contextOf = (entry: { secret: string; ingress: string } | undefined): SecureContext | undefined => {
    if (!entry) return undefined;
    if (!built.has(entry.secret)) {
      const c = fromSecret(secretOf(entry.secret), entry.secret);
      built.set(entry.secret, typeof c === 'string' ? undefined : c);
      if (typeof c === 'string') problems.push({ ingress: entry.ingress, secret: entry.secret, message: c });
    }
    return built.get(entry.secret);
  };
  const byHost = new Map<string, SecureContext | undefined>();
  for (const [host, entry] of table.hosts) byHost.set(host, contextOf(entry));
  const fallback = contextOf(table.fallback);
  return {
    problems,
    contextFor(servername) {
      const name = normalizeHost(servername);
      if (!name) return fallback;
      if (byHost.has(name)) return byHost.get(name) ?? fallback;
      for (const [host, ctx] of byHost) if (host.startsWith('*.') && hostMatches(host, name)) return ctx ?? fallback;
      return fallback;
    },
  };
}
