// MissingConfigMap / MissingSecret: a container reads a ConfigMap or Secret (env valueFrom, envFrom) that will not
// exist once the plan is applied, or a key it does not have. Kubernetes keeps such a container waiting with
// CreateContainerConfigError; the messages are the kubelet's (and convergit's node's) own.
import type { KubeObject } from '../model/object.ts';
import type { Path } from '../manifests/paths.ts';
import type { DesiredObject } from '../manifests/types.ts';
import { containersOf, hasPodTemplate } from './pod-templates.ts';
import type { ReviewWarning } from './report.ts';
import { warningAt } from './warning-at.ts';

type SourceKind = 'ConfigMap' | 'Secret';
interface Ref { name?: string; key?: string; optional?: boolean }

const KEY_REFS = [['configMapKeyRef', 'ConfigMap'], ['secretKeyRef', 'Secret']] as const;
const SOURCE_REFS = [['configMapRef', 'ConfigMap'], ['secretRef', 'Secret']] as const;

/** The keys a ConfigMap or Secret holds (data and binaryData; a Secret's stringData is folded into data by defaults). */
const keysOf = (o: KubeObject) => new Set([
  ...Object.keys((o.data as object) ?? {}), ...Object.keys((o.binaryData as object) ?? {}), ...Object.keys((o.stringData as object) ?? {}),
]);

/** `staying`: live objects that outlive the plan (see stayingLive). */
export function missingConfigWarnings(desired: DesiredObject[], staying: KubeObject[]): ReviewWarning[] {
  const sources = new Map<string, KubeObject>();
  for (const o of [...staying, ...desired.map((d) => d.object)]) {
    if (o.kind === 'ConfigMap' || o.kind === 'Secret') sources.set(`${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o);
  }
  const out: ReviewWarning[] = [];
  for (const d of desired) {
    if (!hasPodTemplate(d.object.kind)) continue;
    const ns = d.object.metadata.namespace ?? 'default';
    const check = (kind: SourceKind, ref: Ref, at: Path, container: string, withKey: boolean) => {
      if (!ref || ref.optional) return; // an optional reference that does not resolve is simply left out
      const source = sources.get(`${kind}/${ns}/${ref.name}`);
      const fails = `container "${container}" would not start (CreateContainerConfigError)`;
      if (!source) {
        const why = `no ${kind} of that name in namespace ${ns}, in git or live`;
        out.push(warningAt(d, `Missing${kind}`, [...at, 'name'], `${kind.toLowerCase()} "${ref.name}" not found: ${why}; ${fails}`));
      } else if (withKey && ref.key !== undefined && !keysOf(source).has(ref.key)) {
        out.push(warningAt(d, `Missing${kind}`, [...at, 'key'], `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}: ${fails}`));
      }
    };
    for (const { container: c, path } of containersOf(d.object)) {
      ((c.env ?? []) as any[]).forEach((e, j) => {
        for (const [field, kind] of KEY_REFS) check(kind, e?.valueFrom?.[field], [...path, 'env', j, 'valueFrom', field], c.name, true);
      });
      ((c.envFrom ?? []) as any[]).forEach((f, j) => {
        for (const [field, kind] of SOURCE_REFS) check(kind, f?.[field], [...path, 'envFrom', j, field], c.name, false);
      });
    }
  }
  return out;
}
