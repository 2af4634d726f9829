// Kubernetes REST paths: /api/v1/…, /apis/{group}/{version}/…, with or without /namespaces/{ns}.
import { kindByResource, type KindInfo } from '../model/kinds.ts';

export interface ResourcePath {
  info: KindInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** undefined: not a resource path. An Error: a resource path naming something unknown. */
export function parseResourcePath(pathname: string): ResourcePath | Error | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') { group = ''; rest = parts.slice(2); }
  else if (parts[0] === 'apis' && parts.length >= 3) { group = parts[1]; rest = parts.slice(3); }
  else return undefined;
  if (rest.length === 0) return undefined; // discovery
  // /namespaces/{ns}/{resource}[/{name}[/{sub}]]; but /namespaces[/{name}] is the Namespace resource itself.
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = kindByResource(group, rest[0]);
  if (!info) return new Error(`the server doesn't have a resource type "${rest[0]}"${group ? ` in group ${group}` : ''}`);
  const version = parts[0] === 'api' ? 'v1' : parts[2];
  if (!info.versions.includes(version)) return new Error(`the server could not find the requested resource: version ${version} of ${group}`);
  if (rest.length > 3) return new Error(`unknown path ${pathname}`);
  return { info, namespace, name: rest[1], subresource: rest[2] };
}
