// Kubernetes REST paths: /api/v1/…, /apis/{group}/{version}/…, with or without /namespaces/{ns}.
import { kindByResource, type KindInfo } from '../model/kinds.ts';
import { DERIVED_KINDS } from './derived.ts';

/** A served kind by group, version and resource: the registry's, then the derived ones. */
function served(group: string, version: string, resource: string): KindInfo | Error | undefined {
  const info = kindByResource(group, resource) ?? DERIVED_KINDS.find((k) => k.group === group && k.resource === resource);
  if (info && !info.versions.includes(version)) return new Error(`the server could not find the requested resource: version ${version} of ${group || 'the core group'} (served: ${info.versions.join(', ')})`);
  return info;
}

export interface ResourcePath {
  info: KindInfo;
  /** The version the path names (info.version is the preferred one). */
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** undefined: not a resource path. An Error: a resource path naming something unknown. */
export function parseResourcePath(pathname: string): ResourcePath | Error | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string, version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') { group = ''; version = 'v1'; rest = parts.slice(2); }
  else if (parts[0] === 'apis' && parts.length >= 3) { group = parts[1]; version = parts[2]; rest = parts.slice(3); }
  else return undefined;
  if (rest.length === 0) return undefined; // discovery
  // /namespaces/{ns}/{resource}[/{name}[/{sub}]]; but /namespaces[/{name}] is the Namespace resource itself.
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = served(group, version, rest[0]);
  if (info instanceof Error) return info;
  if (!info) return new Error(`the server doesn't have a resource type "${rest[0]}"${group ? ` in group ${group}` : ''}`);
  if (rest.length > 3) return new Error(`unknown path ${pathname}`);
  return { info, version, namespace, name: rest[1], subresource: rest[2] };
}
