// Image references as Kubernetes (and Docker) read them: a name without a registry is on docker.io, a one-part
// name there is under library/, and a reference without tag or digest means :latest. podman's own short-name
// rules (registries.conf search lists, prompts) are bypassed by always handing it the full reference.

export interface ImageRef {
  /** `docker.io`, `localhost:5000`, `ghcr.io` … */
  registry: string;
  /** `library/nginx`, `team/app` */
  repository: string;
  tag?: string;
  /** `sha256:…` */
  digest?: string;
}

const DOMAIN = /^(?:localhost|[^/]*[.:][^/]*)$/;

/** Parses `ref`; throws for what no registry would accept (`InvalidImageName` in Kubernetes). */
export function parseImageRef(ref: string): ImageRef {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(ref);
  if (!m || /[A-Z\s]/.test(m[1]) || m[1].endsWith('/') || m[1].includes('//')) {
    throw new Error(`couldn't parse image name "${ref}": invalid reference format`);
  }
  const parts = m[1].split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && DOMAIN.test(parts[0])) registry = parts.shift()!;
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), ...(m[2] && { tag: m[2] }), ...(m[3] && { digest: m[3] }) };
}

/** The full reference: `docker.io/library/nginx:latest`, `host:5000/app@sha256:…`, tag kept beside a digest. */
export function fullImageRef(ref: string): string {
  const r = parseImageRef(ref);
  const name = `${r.registry}/${r.repository}`;
  if (r.digest) return `${name}@${r.digest}`;
  return `${name}:${r.tag ?? 'latest'}`;
}

/** `<registry>/<repository>`: what a pulled image's digest is reported against. */
export const repositoryOf = (ref: string) => {
  const r = parseImageRef(ref);
  return `${r.registry}/${r.repository}`;
};
