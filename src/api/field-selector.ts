// `fieldSelector` as kube-apiserver reads it: per kind, only the fields its field-label conversion funcs and
// GetAttrs/ToSelectableFields allow (pkg/apis/*/v1/conversion.go, pkg/registry/*/strategy.go); `=`, `==`, `!=`,
// comma-joined (all must hold); `\` escapes `,`, `=`, `!` and `\` in values.
import type { KubeObject } from '../model/object.ts';

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }

type Getter = (o: any) => string;

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const bool = (v: unknown) => (v ? 'true' : 'false');

/** Every kind: the object's name and namespace (DefaultMetaV1FieldSelectorConversion). */
const META: Record<string, Getter> = {
  'metadata.name': (o) => str(o.metadata?.name),
  'metadata.namespace': (o) => str(o.metadata?.namespace),
};

/** Per kind, beyond metadata. A kind listed here with `meta: false` lacks metadata.namespace (Node, Namespace). */
const FIELDS: Record<string, { fields: Record<string, Getter>; noNamespace?: boolean }> = {
  Pod: {
    fields: {
      'spec.nodeName': (o) => str(o.spec?.nodeName),
      'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
      // Unset, these are what kube-apiserver would have stored: its defaulting and the ServiceAccount admission.
      'spec.schedulerName': (o) => str(o.spec?.schedulerName || 'default-scheduler'),
      'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName || o.spec?.serviceAccount || 'default'),
      'spec.hostNetwork': (o) => bool(o.spec?.hostNetwork),
      'status.phase': (o) => str(o.status?.phase),
      // kube-apiserver matches status.podIP against the first address; podIPs is accepted as its alias.
      'status.podIP': (o) => str(o.status?.podIP),
      'status.podIPs': (o) => str(o.status?.podIP),
      'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
    },
  },
  Node: { fields: { 'spec.unschedulable': (o) => bool(o.spec?.unschedulable) }, noNamespace: true },
  Namespace: { fields: { 'status.phase': (o) => str(o.status?.phase ?? 'Active') }, noNamespace: true },
  Secret: { fields: { type: (o) => str(o.type ?? 'Opaque') } },
  Service: { fields: { 'spec.clusterIP': (o) => str(o.spec?.clusterIP), 'spec.type': (o) => str(o.spec?.type ?? 'ClusterIP') } },
  ReplicationController: { fields: { 'status.replicas': (o) => str(o.status?.replicas ?? 0) } },
  ReplicaSet: { fields: { 'status.replicas': (o) => str(o.status?.replicas ?? 0) } },
  Job: { fields: { 'status.successful': (o) => str(o.status?.succeeded ?? 0) } },
  CertificateSigningRequest: { fields: { 'spec.signerName': (o) => str(o.spec?.signerName) }, noNamespace: true },
  Event: {
    fields: {
      'involvedObject.kind': (o) => str(o.involvedObject?.kind),
      'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
      'involvedObject.name': (o) => str(o.involvedObject?.name),
      'involvedObject.uid': (o) => str(o.involvedObject?.uid),
      'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
      'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
      'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
      reason: (o) => str(o.reason),
      reportingComponent: (o) => str(o.reportingComponent),
      source: (o) => str(o.source?.component),
      type: (o) => str(o.type),
    },
  },
};

function getter(kind: string, field: string): Getter | undefined {
  const k = FIELDS[kind];
  if (field === 'metadata.namespace' && k?.noNamespace) return undefined;
  return k?.fields[field] ?? META[field];
}

/** Splits at unescaped `sep`, keeping escapes for the next step. */
function splitUnescaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) { cur += text[i] + text[i + 1]; i++; continue; }
    if (text[i] === sep) { out.push(cur); cur = ''; continue; }
    cur += text[i];
  }
  out.push(cur);
  return out;
}

const unescape = (v: string) => v.replace(/\\(.)/g, '$1');

/** Parses a fieldSelector for `kind`. Throws an Error with kube-apiserver's message (a 400). */
export function parseFieldSelector(kind: string, text: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  for (const term of splitUnescaped(text, ',')) {
    if (term === '') continue;
    // The first unescaped operator: `!=`, `==` or `=`.
    const m = /^((?:[^\\=!]|\\.)*?)(!=|==|=)(.*)$/.exec(term);
    if (!m) throw new Error(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1].trim();
    if (!getter(kind, field)) throw new Error(`field label not supported: ${field}`);
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]) });
  }
  return reqs;
}

export function matchesFields(reqs: FieldRequirement[], o: KubeObject): boolean {
  return reqs.every((r) => {
    const v = getter(o.kind, r.field)!(o);
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
