// What a document claims to be: its kind and apiVersion must name a kind users may commit, before there is a
// schema to validate it against.
import { apiVersionOf, gitKinds, kindInfo } from '../model/kinds.ts';
import { closest } from './fields.ts';
import type { Path } from './paths.ts';

export interface IdentityProblem { path: Path; at: Path; message: string }

/** Problems with apiVersion/kind; none means `doc.kind` is a committable kind with its schema. */
export function identityProblems(doc: unknown): IdentityProblem[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return [{ path: [], at: [], message: 'a manifest must be a mapping with apiVersion, kind and metadata' }];
  }
  const { kind, apiVersion } = doc as Record<string, unknown>;
  const supported = gitKinds();
  if (kind === undefined) return [{ path: ['kind'], at: [], message: 'is required' }];
  if (typeof kind !== 'string') return [{ path: ['kind'], at: ['kind'], message: 'must be a string' }];
  const info = kindInfo(kind);
  if (info && !info.fromGit) {
    return [{ path: ['kind'], at: ['kind'], message: `${kind} objects are created by convergit and cannot be committed` }];
  }
  if (!info) {
    const guess = closest(kind, supported);
    const hint = guess ? `; did you mean "${guess}"?` : '';
    return [{ path: ['kind'], at: ['kind'], message: `unsupported kind "${kind}"${hint} (supported: ${supported.join(', ')})` }];
  }
  const want = apiVersionOf(info);
  if (apiVersion === undefined) return [{ path: ['apiVersion'], at: [], message: `is required ("${want}" for ${kind})` }];
  if (apiVersion !== want) return [{ path: ['apiVersion'], at: ['apiVersion'], message: `must be "${want}" for ${kind}, not ${JSON.stringify(apiVersion)}` }];
  return [];
}
