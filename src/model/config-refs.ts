// The ConfigMaps and Secrets a pod spec reads, with where each reference is written: env[].valueFrom.*KeyRef and
// envFrom[].*Ref, in init and app containers. One list for the config checksum and the reviewer's warnings.

export interface ConfigRef {
  kind: 'ConfigMap' | 'Secret';
  name?: string;
  /** A *KeyRef's key; undefined for envFrom, which reads every key. */
  key?: string;
  optional: boolean;
  container: string;
  /** The reference's path inside the pod spec, e.g. ['containers', 0, 'envFrom', 1, 'configMapRef']. */
  path: (string | number)[];
}

const KEY_REFS = [['configMapKeyRef', 'ConfigMap'], ['secretKeyRef', 'Secret']] as const;
const SOURCE_REFS = [['configMapRef', 'ConfigMap'], ['secretRef', 'Secret']] as const;

export function configRefs(podSpec: any): ConfigRef[] {
  const out: ConfigRef[] = [];
  for (const list of ['initContainers', 'containers']) {
    ((podSpec?.[list] ?? []) as any[]).forEach((c, i) => {
      const at = [list, i];
      ((c?.env ?? []) as any[]).forEach((e, j) => {
        for (const [field, kind] of KEY_REFS) {
          const r = e?.valueFrom?.[field];
          if (r) out.push({ kind, name: r.name, key: r.key, optional: !!r.optional, container: c.name, path: [...at, 'env', j, 'valueFrom', field] });
        }
      });
      ((c?.envFrom ?? []) as any[]).forEach((f, j) => {
        for (const [field, kind] of SOURCE_REFS) {
          const r = f?.[field];
          if (r) out.push({ kind, name: r.name, optional: !!r.optional, container: c.name, path: [...at, 'envFrom', j, field] });
        }
      });
    });
  }
  return out;
}
