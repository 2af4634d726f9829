// Kubernetes' validation of Ingresses and IngressClasses (pkg/apis/networking/validation) that JSON Schema
// cannot express: hosts (DNS names, `*.` wildcards of one label, not IP addresses), paths per pathType, backends
// naming a Service port by number or by name, rules or a defaultBackend, the class annotation agreeing with
// the field.
import { isIP } from 'node:net';
import { CLASS_ANNOTATION } from '../model/ingress-class.ts';
import { isDnsLabel, isDnsSubdomain, isIanaSvcName, NAME_SYNTAXES } from '../model/names.ts';
import type { Path } from './paths.ts';
import type { Violation } from './violation.ts';

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const v = (path: Path, message: string): Violation => ({ path, at: path, message });

const WILDCARD_MESSAGE = "must be a wildcard DNS-1123 subdomain: '*.' followed by a DNS subdomain (only the first label may be '*')";
const INVALID_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_SUFFIXES = ['/..', '/.'];

/** A host of a rule or of a TLS entry: a DNS subdomain, or `*.` and one; never an IP address. */
function hostRules(host: unknown, at: Path, ipAllowed = false): Violation[] {
  if (typeof host !== 'string' || host === '') return [];
  if (!ipAllowed && isIP(host)) return [v(at, 'must be a DNS name, not an IP address')];
  if (host.includes('*')) return host.startsWith('*.') && isDnsSubdomain(host.slice(2)) ? [] : [v(at, WILDCARD_MESSAGE)];
  return isDnsSubdomain(host) ? [] : [v(at, NAME_SYNTAXES['dns-subdomain'].message)];
}

function backendRules(b: unknown, at: Path): Violation[] {
  if (!isObj(b)) return [];
  if (b.resource !== undefined && b.service !== undefined) return [v(at, 'cannot set both resource and service backends')];
  if (b.resource !== undefined) return [];
  if (!isObj(b.service)) return [v(at, 'resource or service backend is required')];
  const out: Violation[] = [];
  const { name, port } = b.service;
  if (typeof name === 'string' && !isDnsLabel(name)) out.push(v([...at, 'service', 'name'], NAME_SYNTAXES['dns-label'].message));
  const hasName = isObj(port) && typeof port.name === 'string' && port.name !== '';
  const hasNumber = isObj(port) && port.number !== undefined && port.number !== 0;
  if (hasName && hasNumber) out.push(v([...at, 'service', 'port'], 'cannot set both port name & port number'));
  else if (hasName && !isIanaSvcName(port.name)) out.push(v([...at, 'service', 'port', 'name'], NAME_SYNTAXES['port-name'].message));
  else if (hasNumber && (typeof port.number !== 'number' || !Number.isInteger(port.number) || port.number < 1 || port.number > 65535)) {
    out.push(v([...at, 'service', 'port', 'number'], 'must be between 1 and 65535, inclusive'));
  } else if (!hasName && !hasNumber) out.push({ path: [...at, 'service', 'port'], at: [...at, 'service'], message: 'port name or number is required', missing: true });
  return out;
}

function pathRules(p: Obj, at: Path): Violation[] {
  const out: Violation[] = [];
  const path = p.path;
  if (p.pathType === 'Exact' || p.pathType === 'Prefix') {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      out.push(path === undefined ? { path: [...at, 'path'], at, message: `must be an absolute path: it is required with pathType ${p.pathType}`, missing: true } : v([...at, 'path'], 'must be an absolute path'));
    } else {
      for (const s of INVALID_SEQUENCES) if (path.includes(s)) out.push(v([...at, 'path'], `must not contain '${s}'`));
      for (const s of INVALID_SUFFIXES) if (path.endsWith(s)) out.push(v([...at, 'path'], `cannot end with '${s}'`));
    }
  } else if (p.pathType === 'ImplementationSpecific' && typeof path === 'string' && path !== '' && !path.startsWith('/')) {
    out.push(v([...at, 'path'], 'must be an absolute path'));
  }
  out.push(...backendRules(p.backend, [...at, 'backend']));
  return out;
}

export function ingressRules(obj: Obj): Violation[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [];
  const out: Violation[] = [];
  const rules = list(spec.rules);
  if (!rules.length && spec.defaultBackend === undefined) out.push(v(['spec'], 'either `defaultBackend` or `rules` must be specified'));
  out.push(...backendRules(spec.defaultBackend, ['spec', 'defaultBackend']));
  rules.forEach((r, i) => {
    if (!isObj(r)) return;
    out.push(...hostRules(r.host, ['spec', 'rules', i, 'host']));
    list(r.http?.paths).forEach((p, j) => { if (isObj(p)) out.push(...pathRules(p, ['spec', 'rules', i, 'http', 'paths', j])); });
  });
  list(spec.tls).forEach((t, i) => {
    if (!isObj(t)) return;
    list(t.hosts).forEach((h, j) => out.push(...hostRules(h, ['spec', 'tls', i, 'hosts', j], true)));
    if (typeof t.secretName === 'string' && t.secretName !== '' && !isDnsSubdomain(t.secretName)) out.push(v(['spec', 'tls', i, 'secretName'], NAME_SYNTAXES['dns-subdomain'].message));
  });
  if (typeof spec.ingressClassName === 'string' && !isDnsSubdomain(spec.ingressClassName)) out.push(v(['spec', 'ingressClassName'], NAME_SYNTAXES['dns-subdomain'].message));
  const annotated = isObj(obj.metadata?.annotations) ? obj.metadata.annotations[CLASS_ANNOTATION] : undefined;
  if (typeof annotated === 'string' && typeof spec.ingressClassName === 'string' && annotated !== spec.ingressClassName) {
    out.push(v(['metadata', 'annotations', CLASS_ANNOTATION], 'must match `ingressClassName` when both are specified'));
  }
  return out;
}

/** An IngressClass names its controller as a domain-prefixed path (`example.com/ingress`), at most 250 characters. */
export function ingressClassRules(obj: Obj): Violation[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [];
  const c = spec.controller;
  if (c === undefined) return [{ path: ['spec', 'controller'], at: ['spec'], message: 'is required', missing: true }];
  if (typeof c !== 'string') return [];
  const slash = c.indexOf('/');
  if (c.length > 250) return [v(['spec', 'controller'], 'must be no more than 250 characters')];
  if (slash <= 0 || !isDnsSubdomain(c.slice(0, slash)) || slash === c.length - 1) return [v(['spec', 'controller'], 'must be a domain-prefixed path (such as "acme.io/foo")')];
  return [];
}
