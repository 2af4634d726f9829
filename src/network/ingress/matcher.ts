// Which backend an HTTP request goes to, by the Ingress specification
// (https://kubernetes.io/docs/concepts/services-networking/ingress/): a precise host before a wildcard host
// (`*.foo.com` matches exactly one more label) before rules without a host; within the host chosen, the longest
// matching path wins, Exact before Prefix at equal length, then the older Ingress. Prefix matches element by
// element (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, never `/foobar`; a trailing slash on either side is
// ignored). ImplementationSpecific is matched as Prefix (an empty path as `/`). Nothing matching: the host's
// defaultBackend (of an Ingress with rules for that host), else the catch-all defaultBackend, else none (404),
// as ingress-nginx does.
export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface PathRule<B> {
  path: string;
  pathType: PathType;
  backend: B;
  /** Lower is older: breaks ties between Ingresses. */
  order: number;
}

export interface HostRules<B> {
  /** '' for rules without a host; `*.foo.com` for a wildcard. */
  host: string;
  paths: PathRule<B>[];
  /** The defaultBackend of the oldest Ingress with rules for this host, if it has one. */
  defaultBackend?: B;
}

export interface RouteTable<B> {
  hosts: HostRules<B>[];
  /** The defaultBackend of the oldest Ingress that has one: for requests no host rules take. */
  defaultBackend?: B;
}

/** The host of a Host header or SNI name: lower case, without a port, without a trailing dot. */
export function normalizeHost(h: string | undefined): string {
  let host = (h ?? '').trim().toLowerCase();
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1); // [::1]:80
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** `*.foo.com` matches `bar.foo.com`, not `foo.com` nor `baz.bar.foo.com`; other hosts match themselves. */
export function hostMatches(ruleHost: string, host: string): boolean {
  if (!ruleHost.startsWith('*.')) return ruleHost === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === ruleHost.slice(2);
}

const elements = (p: string) => p.split('/').filter(Boolean);

/** Whether a rule's path takes a request path (without its query). */
export function pathMatches(rule: Pick<PathRule<unknown>, 'path' | 'pathType'>, requestPath: string): boolean {
  if (rule.pathType === 'Exact') return rule.path === requestPath;
  const want = elements(rule.path || '/');
  const got = elements(requestPath);
  return want.length <= got.length && want.every((e, i) => e === got[i]);
}

/** How specific a matching rule is: its path's length without a trailing slash. */
const specificity = (r: PathRule<unknown>) => (r.pathType === 'Exact' ? r.path.length : `/${elements(r.path || '/').join('/')}`.length);

/** The rules of the host that takes `host`: precise, else wildcard, else the host-less rules. */
export function hostRulesFor<B>(table: RouteTable<B>, host: string): HostRules<B> | undefined {
  return table.hosts.find((h) => h.host && !h.host.startsWith('*.') && h.host === host)
    ?? table.hosts.find((h) => h.host.startsWith('*.') && hostMatches(h.host, host))
    ?? table.hosts.find((h) => h.host === '');
}

export interface Match<B> {
  backend: B;
  /** The rule that matched; absent when a defaultBackend took the request. */
  rule?: PathRule<B>;
}

/** The backend for a request to `host` (a Host header or SNI name) and `path` (query allowed), or undefined: 404. */
export function matchRequest<B>(table: RouteTable<B>, host: string | undefined, path: string): Match<B> | undefined {
  const rules = hostRulesFor(table, normalizeHost(host));
  const requestPath = path.split('?')[0] || '/';
  const best = (rules?.paths ?? [])
    .filter((r) => pathMatches(r, requestPath))
    .sort((a, b) => specificity(b) - specificity(a) || (a.pathType === 'Exact' ? 0 : 1) - (b.pathType === 'Exact' ? 0 : 1) || a.order - b.order)[0];
  if (best) return { backend: best.backend, rule: best };
  const fallback = rules?.defaultBackend ?? table.defaultBackend;
  return fallback === undefined ? undefined : { backend: fallback };
}
