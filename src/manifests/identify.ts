// What a document claims to be: its kind and apiVersion must name a kind users may commit (built in, or
// registered by a CustomResourceDefinition), before there is a schema to validate it against.
import { KINDS, kindInfoFor, splitApiVersion, type KindInfo } from '../model/kinds.ts';
import { closest } from './fields.ts';
import { shorten, type Path } from './paths.ts';

export interface IdentityProblem { path: Path; at: Path; message: string }

export interface Identity { info: KindInfo; version: string }

const committable = (i: KindInfo) => i.fromGit;

const BUILTIN_BY_NAME = new Map<string, KindInfo[]>();
for (const i of KINDS) BUILTIN_BY_NAME.set(i.kind, [...(BUILTIN_BY_NAME.get(i.kind) ?? []), i]);

/** The kind and version `doc` is written as, or the problems that stop it from being read as one. */
export function identify(doc: unknown, extra: readonly KindInfo[] = []): Identity | IdentityProblem[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return [{ path: [], at: [], message: 'a manifest must be a mapping with apiVersion, kind and metadata' }];
  }
  const { kind, apiVersion } = doc as Record<string, unknown>;
  // Written text quoted back in a message: a huge value only by its start and length.
  const k = typeof kind === 'string' ? shorten(kind) : kind;
  const av = typeof apiVersion === 'string' ? shorten(apiVersion) : apiVersion;
  if (kind === undefined) return [{ path: ['kind'], at: [], message: 'is required' }];
  if (typeof kind !== 'string') return [{ path: ['kind'], at: ['kind'], message: 'must be a string' }];
  // Only the built-in kinds and the CRDs given: what a commit may use never depends on this process's past.
  const sameName = [...extra.filter((i) => i.kind === kind), ...(BUILTIN_BY_NAME.get(kind) ?? [])];
  if (!sameName.length) {
    const known = [...extra, ...KINDS];
    const guess = closest(kind, [...new Set(known.filter(committable).map((i) => i.kind))]);
    const hint = guess ? `; did you mean "${guess}"?` : '';
    const group = typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : undefined;
    if (typeof apiVersion === 'string' && (group === undefined || KINDS.some((i) => i.group === group))) {
      return [{ path: ['kind'], at: ['kind'], message: `unknown kind "${k}"${hint}: ${av} has no such kind in Kubernetes 1.32` }];
    }
    const crd = group ? `no CustomResourceDefinition for ${k} in group ${shorten(group)} is in this commit or applied` : 'no CustomResourceDefinition in this commit or applied defines it';
    return [{ path: ['kind'], at: ['kind'], message: `unknown kind "${k}"${hint}: not a Kubernetes 1.32 kind, and ${crd}` }];
  }
  const wanted = sameName.map((i) => i.versions.map((v) => (i.group ? `${i.group}/${v}` : v))).flat();
  if (apiVersion === undefined) return [{ path: ['apiVersion'], at: [], message: `is required (${quoteList(wanted)} for ${kind})` }];
  if (typeof apiVersion !== 'string') return [{ path: ['apiVersion'], at: ['apiVersion'], message: 'must be a string' }];
  const [group, version] = splitApiVersion(apiVersion);
  const builtin = kindInfoFor(apiVersion, kind);
  const info = extra.find((i) => i.group === group && i.kind === kind) ?? (builtin?.custom ? undefined : builtin);
  if (!info || !info.versions.includes(version)) {
    return [{ path: ['apiVersion'], at: ['apiVersion'], message: `must be ${quoteList(wanted)} for ${kind}, not ${JSON.stringify(av)}` }];
  }
  if (info.mode === 'refused') return [{ path: ['kind'], at: ['kind'], message: `${kind} cannot be committed: ${info.reason}` }];
  return { info, version };
}

const quoteList = (xs: string[]) => xs.map((x) => `"${x}"`).join(' or ');

