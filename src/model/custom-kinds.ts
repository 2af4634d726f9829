// The kinds a CustomResourceDefinition registers: one per CRD, in every version it serves, as the
// apiextensions-apiserver serves them (names, scope, categories, the storage version preferred).
import { setCustomKinds, type KindInfo } from './kinds.ts';
import type { KubeObject } from './object.ts';

export interface CrdVersion { name: string; served?: boolean; storage?: boolean; schema?: { openAPIV3Schema?: any }; additionalPrinterColumns?: unknown[] }

/** `CronTab.stable.example.com` style key: the CRD's own name is `<plural>.<group>`. */
export function kindOfCrd(crd: KubeObject): KindInfo | undefined {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (typeof spec.group !== 'string' || typeof names.kind !== 'string' || typeof names.plural !== 'string') return undefined;
  const versions: CrdVersion[] = Array.isArray(spec.versions) ? spec.versions : [];
  const served = versions.filter((v) => v.served !== false).map((v) => v.name);
  const storage = versions.find((v) => v.storage)?.name;
  const ordered = storage && served.includes(storage) ? [storage, ...served.filter((v) => v !== storage)] : served;
  if (!ordered.length) return undefined;
  return {
    kind: names.kind, group: spec.group, version: ordered[0], versions: ordered, resource: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(), shortNames: names.shortNames ?? [], categories: names.categories ?? [],
    namespaced: spec.scope !== 'Cluster', mode: 'kept', reason: `no controller for ${names.kind} runs in convergit`,
    fromGit: true, definitions: {}, custom: true,
  };
}

/** The schema of `version` of a CRD, or undefined. */
export const crdSchema = (crd: KubeObject, version: string): any =>
  (crd.spec?.versions as CrdVersion[] | undefined)?.find((v) => v.name === version)?.schema?.openAPIV3Schema;

/** Makes the kinds of `crds` known to every part of this process (the API, the store's scopes, the loader). */
export function registerCrds(crds: KubeObject[]): void {
  setCustomKinds(crds.flatMap((c) => kindOfCrd(c) ?? []));
}
