// The OpenAPI of established CustomResourceDefinitions, as kube-apiserver publishes it: one definition per served
// version (`com.example.v1.Widget`, the group reversed) from its openAPIV3Schema, with apiVersion, kind and
// metadata added and x-kubernetes-group-version-kind set, its List, and GET paths; so `kubectl explain` works.
import type { KubeObject } from '../model/object.ts';
import type { CrdVersion } from '../model/custom-kinds.ts';
import type { ExtraOpenApi } from './openapi.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const API_VERSION = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const METADATA = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export const isEstablished = (crd: KubeObject) =>
  ((crd.status?.conditions ?? []) as any[]).some((c) => c.type === 'Established' && c.status === 'True');

/** OpenAPI v2 has no nullable, anyOf, oneOf, allOf or not: kube-apiserver drops them from v2 (they stay in v3). */
function toV2(s: any): any {
  if (Array.isArray(s)) return s.map(toV2);
  if (!s || typeof s !== 'object') return s;
  const out: any = {};
  for (const [k, v] of Object.entries(s)) {
    if (['nullable', 'anyOf', 'oneOf', 'allOf', 'not', 'x-kubernetes-validations'].includes(k)) continue;
    out[k] = k === 'properties' || k === 'patternProperties' ? Object.fromEntries(Object.entries(v as object).map(([p, x]) => [p, toV2(x)])) : toV2(v);
  }
  return out;
}

/** `com.example.v1.Widget` for group `example.com`. */
export const definitionName = (group: string, version: string, kind: string) => `${group.split('.').reverse().join('.')}.${version}.${kind}`;

/** Definitions and paths of the established CRDs, for `openApiDocuments(…, extra)`. */
export function crdOpenApi(crds: KubeObject[]): ExtraOpenApi {
  const definitions: Record<string, any> = {};
  const paths: Record<string, any> = {};
  for (const crd of crds.filter(isEstablished)) {
    const { group, names, scope } = crd.spec ?? {};
    for (const v of (crd.spec?.versions ?? []) as CrdVersion[]) {
      if (v.served === false) continue;
      const gvk = { group, kind: names.kind, version: v.name };
      const name = definitionName(group, v.name, names.kind);
      const schema = toV2(structuredClone(v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }));
      definitions[name] = {
        ...schema,
        type: 'object',
        properties: {
          ...schema.properties,
          apiVersion: { description: API_VERSION, type: 'string' },
          kind: { description: KIND, type: 'string' },
          metadata: { $ref: `#/definitions/${META}.ObjectMeta`, description: METADATA },
        },
        'x-kubernetes-group-version-kind': [gvk],
      };
      definitions[`${name}List`] = {
        description: `${names.kind}List is a list of ${names.kind}`,
        type: 'object', required: ['items'],
        properties: {
          apiVersion: { description: API_VERSION, type: 'string' },
          items: { description: `List of ${names.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: { $ref: `#/definitions/${name}` } },
          kind: { description: KIND, type: 'string' },
          metadata: { $ref: `#/definitions/${META}.ListMeta`, description: METADATA },
        },
        'x-kubernetes-group-version-kind': [{ ...gvk, kind: `${names.kind}List` }],
      };
      const base = `/apis/${group}/${v.name}`;
      const ns = scope === 'Namespaced';
      // kube-apiserver's operation ids: listComExampleV1NamespacedWidget, readComExampleV1Widget …
      const idGroup = [...group.split('.').reverse(), v.name].map((x: string) => x[0].toUpperCase() + x.slice(1)).join('');
      const op = (action: 'get' | 'list', ref: string, allNamespaces: boolean) => ({
        get: {
          operationId: `${action === 'get' ? 'read' : 'list'}${idGroup}${ns && !allNamespaces ? 'Namespaced' : ''}${names.kind}${allNamespaces ? 'ForAllNamespaces' : ''}`,
          produces: ['application/json', 'application/yaml'], schemes: ['https'], tags: [`${group.split('.')[0]}_${v.name}`],
          responses: { 200: { description: 'OK', schema: { $ref: `#/definitions/${ref}` } }, 401: { description: 'Unauthorized' } },
          'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk,
        },
      });
      const nsParam = { name: 'namespace', in: 'path', required: true, type: 'string', uniqueItems: true, description: 'object name and auth scope, such as for teams and projects' };
      const nameParam = { name: 'name', in: 'path', required: true, type: 'string', uniqueItems: true, description: `name of the ${names.kind}` };
      const prefix = ns ? `${base}/namespaces/{namespace}/${names.plural}` : `${base}/${names.plural}`;
      paths[prefix] = { ...op('list', `${name}List`, false), parameters: ns ? [nsParam] : [] };
      paths[`${prefix}/{name}`] = { ...op('get', name, false), parameters: ns ? [nameParam, nsParam] : [nameParam] };
      if (ns) paths[`${base}/${names.plural}`] = { ...op('list', `${name}List`, true), parameters: [] };
    }
  }
  return { definitions, paths };
}
