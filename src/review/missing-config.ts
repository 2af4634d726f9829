// MissingConfigMap / MissingSecret: a container reads a ConfigMap or Secret (env valueFrom, envFrom) that will not
// exist once the plan is applied, or a key it does not have. Kubernetes keeps such a container waiting with
// CreateContainerConfigError; the messages are the kubelet's (and convergit's node's) own.
import type { KubeObject } from '../model/object.ts';
import type { DesiredObject } from '../manifests/types.ts';
import { configRefs } from '../model/config-refs.ts';
import { hasPodTemplate, podSpecPath, podTemplateOf } from './pod-templates.ts';
import type { ReviewWarning } from './report.ts';
import { warningAt } from './warning-at.ts';

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
    for (const ref of configRefs(podTemplateOf(d.object)?.spec)) {
      if (ref.optional) continue; // an optional reference that does not resolve is simply left out
      const at = [...podSpecPath(d.object.kind), ...ref.path];
      const source = sources.get(`${ref.kind}/${ns}/${ref.name}`);
      const fails = `container "${ref.container}" would not start (CreateContainerConfigError)`;
      if (!source) {
        const why = `no ${ref.kind} of that name in namespace ${ns}, in git or live`;
        out.push(warningAt(d, `Missing${ref.kind}`, [...at, 'name'], `${ref.kind.toLowerCase()} "${ref.name}" not found: ${why}; ${fails}`));
      } else if (ref.key !== undefined && !keysOf(source).has(ref.key)) {
        out.push(warningAt(d, `Missing${ref.kind}`, [...at, 'key'], `couldn't find key ${ref.key} in ${ref.kind} ${ns}/${ref.name}: ${fails}`));
      }
    }
  }
  return out;
}
