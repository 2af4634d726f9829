// /openapi/v2 and /openapi/v3 from Kubernetes' own OpenAPI v2 document (schemas/kubernetes-1.32.swagger.json, the
// one validation reads), limited to the resources this server serves. v3 is derived from v2 here (definitions →
// components.schemas, body parameters → requestBody, `#/parameters` inlined), per group-version as kube-apiserver
// splits it, so `kubectl explain` and kubectl's field-validation probe (the PATCH operation's `fieldValidation`
// parameter) work. Custom resources: pass their definitions and paths as `extra`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KindInfo } from '../model/kinds.ts';

const SWAGGER = new URL('../../schemas/kubernetes-1.32.swagger.json', import.meta.url);
// Read once per process: documents are rebuilt when the custom kinds change, the built-in part never does.
let swagger: any;
const load = () => (swagger ??= JSON.parse(readFileSync(SWAGGER, 'utf8')));

/** What custom resources add: v2 definitions (keyed like `com.example.v1.Widget`) and v2 paths. */
export interface ExtraOpenApi { definitions?: Record<string, any>; paths?: Record<string, any> }

export interface OpenApiDocuments {
  v2(): any;
  /** `{ paths: { "apis/apps/v1": { serverRelativeURL } } }` */
  v3Index(): any;
  /** The v3 document of `api/v1` or `apis/<group>/<version>`; undefined when that is not served. */
  v3(gv: string): { doc: any; hash: string } | undefined;
}

/** `api/v1`, `apis/apps/v1` … for a kind. */
export const gvPath = (k: Pick<KindInfo, 'group' | 'version'>) => (k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`);
/** The group-version paths of every version a kind is served in. */
const gvPaths = (k: KindInfo) => (k.versions?.length ? k.versions : [k.version]).map((version) => gvPath({ group: k.group, version }));

/** The group-version path and resource a v2 path is about, e.g. `/apis/apps/v1/namespaces/{namespace}/deployments/{name}`. */
function resourceOfPath(p: string): { gv: string; resource?: string } | undefined {
  const m = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/(.*)$/.exec(p);
  if (!m) return undefined;
  let rest = m[2].split('/').filter(Boolean);
  if (rest[0] === 'watch') rest = rest.slice(1);
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return { gv: m[1], resource: rest[0] };
}

const toV3Ref = (v: any): any => {
  if (Array.isArray(v)) return v.map(toV3Ref);
  if (!v || typeof v !== 'object') return v;
  const out: any = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/definitions/', '#/components/schemas/') : toV3Ref(x);
  return out;
};

/** Definitions a value refers to, and what those refer to. */
function collectRefs(v: any, defs: Record<string, any>, into: Set<string>): void {
  if (Array.isArray(v)) { for (const x of v) collectRefs(x, defs, into); return; }
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    const prefix = typeof x === 'string' ? ['#/definitions/', '#/components/schemas/'].find((pre) => x.startsWith(pre)) : undefined;
    if (k === '$ref' && prefix) {
      const name = (x as string).slice(prefix.length);
      if (!into.has(name) && defs[name]) { into.add(name); collectRefs(defs[name], defs, into); }
    } else collectRefs(x, defs, into);
  }
}

function convertParam(p: any, globals: Record<string, any>): any {
  const q = p.$ref ? globals[p.$ref.slice('#/parameters/'.length)] : p;
  if (!q) return undefined;
  const { type, uniqueItems, items, format, ...rest } = q;
  return { ...rest, schema: { type, ...(uniqueItems ? { uniqueItems } : {}), ...(items ? { items } : {}), ...(format ? { format } : {}) } };
}

function convertOperation(op: any, globals: Record<string, any>): any {
  const { consumes, produces, schemes, parameters, responses, ...rest } = op;
  const out: any = { ...rest };
  const params: any[] = [];
  for (const p of parameters ?? []) {
    const q = p.$ref ? globals[p.$ref.slice('#/parameters/'.length)] : p;
    if (q?.in === 'body') {
      out.requestBody = { content: Object.fromEntries((consumes ?? ['application/json']).map((c: string) => [c, { schema: toV3Ref(q.schema) }])), required: !!q.required };
    } else if (q) params.push(convertParam(q, globals));
  }
  if (params.length) out.parameters = params;
  out.responses = Object.fromEntries(Object.entries(responses ?? {}).map(([code, r]: [string, any]) => [code, {
    description: r.description ?? '',
    ...(r.schema ? { content: Object.fromEntries((produces ?? ['application/json']).map((c: string) => [c, { schema: toV3Ref(r.schema) }])) } : {}),
  }]));
  return out;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

/** The documents for the kinds served; read from disk once, on first use. */
export function openApiDocuments(served: () => KindInfo[], extra: ExtraOpenApi = {}): OpenApiDocuments {
  const v3Cache = new Map<string, { doc: any; hash: string }>();
  let v2Cache: any;

  /** v2 paths of served resources (and each served group-version's discovery path). */
  const servedPaths = (): Record<string, any> => {
    const kinds = served();
    const resources = new Set(kinds.flatMap((k) => gvPaths(k).map((gv) => `${gv}|${k.resource}`)));
    const gvs = new Set(kinds.flatMap(gvPaths));
    const all = { ...load().paths, ...extra.paths };
    return Object.fromEntries(Object.entries(all).filter(([p]) => {
      if (['/version/', '/api/', '/apis/'].includes(p)) return true;
      const r = resourceOfPath(p.endsWith('/') ? p : p + '/');
      if (!r) return false;
      return r.resource ? resources.has(`${r.gv}|${r.resource}`) : gvs.has(r.gv);
    }));
  };

  const definitions = () => ({ ...load().definitions, ...extra.definitions });

  return {
    v2() {
      return (v2Cache ??= { ...load(), info: { title: 'Kubernetes', version: 'v1.32.0' }, definitions: definitions(), paths: servedPaths() });
    },
    v3Index() {
      const gvs = [...new Set(served().flatMap(gvPaths))].sort();
      return { paths: Object.fromEntries(gvs.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${this.v3(gv)!.hash}` }])) };
    },
    v3(gv: string) {
      const cached = v3Cache.get(gv);
      if (cached) return cached;
      if (!served().some((k) => gvPaths(k).includes(gv))) return undefined;
      const defs = definitions();
      const globals = load().parameters ?? {};
      const paths: Record<string, any> = {};
      for (const [p, item] of Object.entries(servedPaths())) {
        if (resourceOfPath(p.endsWith('/') ? p : p + '/')?.gv !== gv) continue;
        const out: any = {};
        for (const [k, v] of Object.entries(item as Record<string, any>)) {
          if (METHODS.includes(k)) out[k] = convertOperation(v, globals);
          else if (k === 'parameters') out.parameters = (v as any[]).map((x) => convertParam(x, globals)).filter(Boolean);
          else out[k] = v;
        }
        paths[p] = out;
      }
      // The kinds of this group-version (explain looks them up by x-kubernetes-group-version-kind) and what they use.
      const [group, version] = gv === 'api/v1' ? ['', 'v1'] : gv.split('/').slice(1);
      const names = new Set<string>();
      for (const [name, d] of Object.entries(defs)) {
        const gvks: any[] = (d as any)['x-kubernetes-group-version-kind'] ?? [];
        if (gvks.some((x) => (x.group ?? '') === group && x.version === version)) { names.add(name); collectRefs(d, defs, names); }
      }
      collectRefs(paths, defs, names);
      const schemas = Object.fromEntries([...names].sort().map((n) => [n, toV3Ref(defs[n])]));
      const doc = { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas, securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } } };
      const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
      const entry = { doc, hash };
      v3Cache.set(gv, entry);
      return entry;
    },
  };
}
