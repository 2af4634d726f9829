// Remote bases and files: kustomize fetches URLs, `git::…`, `git@…` and `github.com/…` references over the
// network. A sync never does; such references are refused before kustomize runs.

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i; // https://…, ssh://…, file://…
const GIT = /^(?:git::|git@|gh:)/i;
/** A host name as first segment (`github.com/org/repo`, `gitlab.example.org/x`): kustomize's repo spec form. */
const HOST = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?\//i;

/** Why `ref` is remote ("a URL", …), or undefined for a local path. */
export function remoteKind(ref: string): string | undefined {
  if (SCHEME.test(ref)) return 'a URL';
  if (GIT.test(ref)) return 'a git repository';
  if (HOST.test(ref)) return 'a remote repository';
  return undefined;
}
