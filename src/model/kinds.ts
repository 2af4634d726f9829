// The kinds convergit knows, as data: every built-in kind of Kubernetes 1.32, read from its own OpenAPI document
// (schemas/kubernetes-1.32.swagger.json), plus the custom kinds that applied CustomResourceDefinitions register.
// Each kind is *run* (a controller acts on it), *kept* (validated, stored, pruned and served, but nothing
// enforces it) or *refused* (it makes no sense to commit; the reason says why).
import { readFileSync } from 'node:fs';
import type { OpenApiKind } from './openapi-kinds.ts';

export type KindMode = 'run' | 'kept' | 'refused';

export interface KindInfo {
  kind: string;
  group: string; // '' for the core group
  /** The preferred version (the one objects are served and stored as). */
  version: string;
  /** Every version served, preferred first. */
  versions: string[];
  resource: string; // plural, as in URLs
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  mode: KindMode;
  /** For kept kinds: what is not enforced; for refused kinds: why it cannot be committed. */
  reason?: string;
  /** true when users may commit it. */
  fromGit: boolean;
  /** The OpenAPI definition of each version, `io.k8s.api.apps.v1.Deployment`; absent for custom kinds. */
  definitions: Record<string, string>;
  /** Set for kinds a CustomResourceDefinition registers. */
  custom?: boolean;
}

export const SWAGGER_FILE = new URL('../../schemas/kubernetes-1.32.swagger.json', import.meta.url);
/** The built-in kinds of SWAGGER_FILE, derived by scripts/update-openapi.sh (model/openapi-kinds.ts). */
export const OPENAPI_KINDS_FILE = new URL('../../schemas/kubernetes-1.32.kinds.json', import.meta.url);

/** kubectl's short names: Kubernetes serves them in discovery, but they are not in the OpenAPI document. */
const SHORT_NAMES: Record<string, string[]> = {
  componentstatuses: ['cs'], configmaps: ['cm'], endpoints: ['ep'], events: ['ev'], limitranges: ['limits'],
  namespaces: ['ns'], nodes: ['no'], persistentvolumeclaims: ['pvc'], persistentvolumes: ['pv'], pods: ['po'],
  replicationcontrollers: ['rc'], resourcequotas: ['quota'], serviceaccounts: ['sa'], services: ['svc'],
  customresourcedefinitions: ['crd', 'crds'], daemonsets: ['ds'], deployments: ['deploy'], replicasets: ['rs'],
  statefulsets: ['sts'], horizontalpodautoscalers: ['hpa'], cronjobs: ['cj'], certificatesigningrequests: ['csr'],
  ingresses: ['ing'], networkpolicies: ['netpol'], poddisruptionbudgets: ['pdb'], priorityclasses: ['pc'],
  storageclasses: ['sc'],
};

/** Discovery categories, as kube-apiserver serves them (`kubectl get all`). */
const CATEGORIES: Record<string, string[]> = {
  pods: ['all'], replicationcontrollers: ['all'], services: ['all'], daemonsets: ['all'], deployments: ['all'],
  replicasets: ['all'], statefulsets: ['all'], horizontalpodautoscalers: ['all'], cronjobs: ['all'], jobs: ['all'],
  mutatingwebhookconfigurations: ['api-extensions'], validatingwebhookconfigurations: ['api-extensions'],
  validatingadmissionpolicies: ['api-extensions'], validatingadmissionpolicybindings: ['api-extensions'],
  customresourcedefinitions: ['api-extensions'], apiservices: ['api-extensions'],
};

/** Kinds a controller of convergit acts on. */
const RUN = new Set(['Namespace', 'ConfigMap', 'Secret', 'Service', 'Pod', 'Deployment', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'Endpoints', 'EndpointSlice', 'CustomResourceDefinition', 'Ingress', 'IngressClass', 'PersistentVolumeClaim', 'PersistentVolume', 'StorageClass', 'StatefulSet', 'DaemonSet', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']);

/** Kinds that make no sense in git, and why. */
const REFUSED: Record<string, string> = {
  Binding: 'a Binding is how the scheduler assigns a pod to a node; it is an action, not an object to keep',
  TokenReview: 'a TokenReview is a question asked of the API server, not an object to keep',
  SubjectAccessReview: 'a SubjectAccessReview is a question asked of the API server, not an object to keep',
  LocalSubjectAccessReview: 'a LocalSubjectAccessReview is a question asked of the API server, not an object to keep',
  SelfSubjectAccessReview: 'a SelfSubjectAccessReview is a question asked of the API server, not an object to keep',
  SelfSubjectRulesReview: 'a SelfSubjectRulesReview is a question asked of the API server, not an object to keep',
  SelfSubjectReview: 'a SelfSubjectReview is a question asked of the API server, not an object to keep',
  ComponentStatus: 'ComponentStatus reports the health of control-plane components; it is read, never written',
  Event: 'Events are recorded by the components as things happen; they cannot be committed',
  Node: 'Nodes are registered by convergit for each local node (--nodes); they cannot be committed',
  ControllerRevision: 'ControllerRevisions are written by the StatefulSet controller to record its templates; they cannot be committed',
};

/** What each kept kind leaves unenforced, for the one warning per kind and commit. */
const KEPT_REASONS: Record<string, string> = {
  ServiceAccount: 'no tokens are issued', Role: 'RBAC is not enforced', ClusterRole: 'RBAC is not enforced',
  RoleBinding: 'RBAC is not enforced', ClusterRoleBinding: 'RBAC is not enforced',
  NetworkPolicy: 'traffic between pods is not filtered',
  ResourceQuota: 'quotas are not enforced', LimitRange: 'default limits are not applied',
  PriorityClass: 'pods are not prioritised or preempted',
  MutatingWebhookConfiguration: 'no webhook is called', ValidatingWebhookConfiguration: 'no webhook is called',
  ValidatingAdmissionPolicy: 'no admission policy is evaluated', ValidatingAdmissionPolicyBinding: 'no admission policy is evaluated',
APIService: 'no API is aggregated',
};

interface Swagger { definitions: Record<string, any>; paths: Record<string, Record<string, any>> }

let swagger: Swagger | undefined;
/** Kubernetes' OpenAPI v2 document (parsed once, on first use: only to compile a validator no cache has). */
export function kubernetesOpenApi(): Swagger {
  swagger ??= JSON.parse(readFileSync(SWAGGER_FILE, 'utf8')) as Swagger;
  return swagger;
}

/** What the OpenAPI document says of each built-in kind (model/openapi-kinds.ts), with convergit's policy for it. */
function builtinKinds(): KindInfo[] {
  const kinds = JSON.parse(readFileSync(OPENAPI_KINDS_FILE, 'utf8')) as OpenApiKind[];
  return kinds.map(({ kind, group, versions, resource, namespaced, definitions }) => {
    const mode: KindMode = REFUSED[kind] ? 'refused' : RUN.has(kind) ? 'run' : 'kept';
    return {
      kind, group, version: versions[0], versions, resource, singular: kind.toLowerCase(), shortNames: SHORT_NAMES[resource] ?? [],
      categories: CATEGORIES[resource] ?? [], namespaced, mode, reason: REFUSED[kind] ?? (mode === 'kept' ? KEPT_REASONS[kind] ?? 'nothing enforces it' : undefined),
      fromGit: mode !== 'refused', definitions,
    };
  });
}

const builtins = builtinKinds();
let custom: KindInfo[] = [];
let byKind = new Map<string, KindInfo>();
let byGroupKind = new Map<string, KindInfo>();
let byResource = new Map<string, KindInfo>();

function index() {
  byKind = new Map();
  byGroupKind = new Map();
  byResource = new Map();
  // The core group wins a bare kind name (core Event over events.k8s.io Event); built-ins over custom kinds.
  for (const i of [...builtins.filter((b) => !b.group), ...builtins.filter((b) => b.group), ...custom]) {
    if (!byKind.has(i.kind)) byKind.set(i.kind, i);
    byGroupKind.set(`${i.group}/${i.kind}`, i);
    byResource.set(`${i.group}/${i.resource}`, i);
  }
}
index();

/** Every kind known now: the built-in ones, then the custom ones. */
export const allKinds = (): readonly KindInfo[] => [...builtins, ...custom];

/** Kept for callers that iterate the kinds: the same list as allKinds() at the time of the call. */
export const KINDS: readonly KindInfo[] = builtins;

/** Replaces the custom kinds (those of the applied CustomResourceDefinitions). */
export function setCustomKinds(infos: KindInfo[]): void {
  custom = infos.filter((i) => !byGroupKind.get(`${i.group}/${i.kind}`) || byGroupKind.get(`${i.group}/${i.kind}`)!.custom);
  index();
}

export const apiVersionOf = (info: Pick<KindInfo, 'group' | 'version'>) => (info.group ? `${info.group}/${info.version}` : info.version);

/** `apps/v1` → ['apps', 'v1']; `v1` → ['', 'v1']. */
export function splitApiVersion(apiVersion: string): [string, string] {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

export const kindInfo = (kind: string): KindInfo | undefined => byKind.get(kind);
/** The kind an apiVersion and kind name, in whatever version of the group it is written. */
export const kindInfoFor = (apiVersion: string, kind: string): KindInfo | undefined => byGroupKind.get(`${splitApiVersion(apiVersion)[0]}/${kind}`);
export const kindByResource = (group: string, resource: string) => byResource.get(`${group}/${resource}`);
/** Kinds users may commit. */
export const gitKinds = () => [...new Set(allKinds().filter((i) => i.fromGit).map((i) => i.kind))];
export const isNamespaced = (kind: string) => byKind.get(kind)?.namespaced ?? true;

/** Namespaces that exist without being committed, as in a fresh Kubernetes cluster. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
