// Reviews, the POSTs a read-only server still answers because they write nothing: SelfSubjectAccessReview
// (`kubectl auth can-i`), SelfSubjectRulesReview (`auth can-i --list`), SelfSubjectReview (`auth whoami`), and the
// ones other components ask about someone else: SubjectAccessReview, LocalSubjectAccessReview (one namespace),
// TokenReview (is this the data folder's token?). Everyone may read everything; nobody may write through the API:
// changes are commits. Binding is listed as kube-apiserver lists it; a POST of one is refused like any write.
import type { KindInfo } from '../model/kinds.ts';

const review = (kind: string, group: string, resource: string): KindInfo => ({
  kind, group, version: 'v1', versions: ['v1'], resource, singular: kind.toLowerCase(), shortNames: [], categories: [], namespaced: false,
  mode: 'refused', reason: 'a question asked of the API server', fromGit: false, definitions: {},
});

export const REVIEW_KINDS: readonly KindInfo[] = [
  review('SelfSubjectAccessReview', 'authorization.k8s.io', 'selfsubjectaccessreviews'),
  review('SelfSubjectRulesReview', 'authorization.k8s.io', 'selfsubjectrulesreviews'),
  review('SelfSubjectReview', 'authentication.k8s.io', 'selfsubjectreviews'),
  review('SubjectAccessReview', 'authorization.k8s.io', 'subjectaccessreviews'),
  { ...review('LocalSubjectAccessReview', 'authorization.k8s.io', 'localsubjectaccessreviews'), namespaced: true },
  review('TokenReview', 'authentication.k8s.io', 'tokenreviews'),
  { ...review('Binding', '', 'bindings'), namespaced: true },
];

const REVIEW_PATH = /^\/apis\/(authorization\.k8s\.io|authentication\.k8s\.io)\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)\/?$/;

export const READ_VERBS = ['get', 'list', 'watch'];

/** Who holds the data folder's bearer token (`convergit kubeconfig`), as kube-apiserver names a static token's user. */
export const TOKEN_USER = { username: 'convergit:api-token', groups: ['system:authenticated'] };
const ANONYMOUS = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** The review for a POST to `group/version/resource`, or undefined when that is not a review path. Throws on a bad body (a 400). */
export function answerReview(pathname: string, body: any, where: { repository: string; branch: string; authenticated?: boolean; token?: string }): unknown {
  const m = REVIEW_PATH.exec(pathname);
  if (!m) return undefined;
  const [, group, namespace, resource] = m;
  const kind = REVIEW_KINDS.find((k) => k.group === group && k.resource === resource);
  if (!kind || kind.namespaced !== (namespace !== undefined)) return undefined;
  const base = { apiVersion: `${kind.group}/v1`, kind: kind.kind, metadata: { creationTimestamp: null, ...(namespace && { namespace }) } };
  const write = `convergit's API is read-only: change the system by committing to ${where.repository} (branch ${where.branch})`;
  if (kind.kind === 'SelfSubjectReview') {
    return { ...base, status: { userInfo: where.authenticated ? TOKEN_USER : ANONYMOUS } };
  }
  if (!body || typeof body !== 'object' || typeof body.spec !== 'object' || body.spec === null) throw new Error(`${kind.kind}: spec is required`);
  if (kind.kind === 'TokenReview') {
    if (typeof body.spec.token !== 'string' || !body.spec.token) throw new Error('TokenReview: spec.token is required');
    const ok = !!where.token && body.spec.token === where.token;
    return { ...base, spec: body.spec, status: ok ? { authenticated: true, user: TOKEN_USER, audiences: body.spec.audiences ?? [] } : { authenticated: false, user: {} } };
  }
  if (kind.kind === 'SubjectAccessReview' || kind.kind === 'LocalSubjectAccessReview') {
    if (!body.spec.user && !(Array.isArray(body.spec.groups) && body.spec.groups.length)) throw new Error(`${kind.kind}: at least one of spec.user or spec.groups must be specified`);
    if (kind.kind === 'LocalSubjectAccessReview' && (body.spec.nonResourceAttributes || body.spec.resourceAttributes?.namespace !== namespace)) {
      throw new Error(`LocalSubjectAccessReview: spec.resourceAttributes.namespace must be the request's namespace (${namespace}), and nonResourceAttributes are not allowed`);
    }
  }
  if (kind.kind === 'SelfSubjectRulesReview') {
    return {
      ...base, spec: body.spec,
      status: {
        resourceRules: [
          { verbs: READ_VERBS, apiGroups: ['*'], resources: ['*'] },
          { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
          { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
        ],
        nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['*'] }],
        incomplete: false,
      },
    };
  }
  const attrs = body.spec.resourceAttributes ?? body.spec.nonResourceAttributes;
  if (!attrs || typeof attrs.verb !== 'string') throw new Error(`${kind.kind}: spec.resourceAttributes.verb or spec.nonResourceAttributes.verb is required`);
  const verb: string = attrs.verb;
  const reads = body.spec.nonResourceAttributes ? ['get', 'head'] : READ_VERBS;
  const allowed = reads.includes(verb);
  return {
    ...base, spec: body.spec,
    status: allowed ? { allowed: true, reason: 'convergit allows every read' } : { allowed: false, reason: write },
  };
}
