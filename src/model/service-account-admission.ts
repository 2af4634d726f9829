// The ServiceAccount admission plugin's image pull secrets (plugin/pkg/admission/serviceaccount): a pod created
// without imagePullSecrets gets those of its ServiceAccount, written into the pod as `kubectl get -o yaml` shows,
// so the kubelet (here the node's puller, which reads pod.spec only) uses them. Upstream mutates on create only.
import type { AdmissionContext } from './admission.ts';
import type { KubeObject } from './object.ts';

/** The store's admission step: a created Pod with no imagePullSecrets gets its ServiceAccount's, if it has any. */
export function serviceAccountAdmission(obj: KubeObject, ctx?: AdmissionContext): KubeObject {
  if (obj.kind !== 'Pod' || !obj.spec || ctx?.operation !== 'create') return obj;
  if ((obj.spec.imagePullSecrets ?? []).length) return obj;
  // Mirror pods are the kubelet's own and have no account (upstream skips them).
  if (obj.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return obj;
  const account = ctx.get('ServiceAccount', obj.metadata.namespace ?? 'default', obj.spec.serviceAccountName ?? obj.spec.serviceAccount ?? 'default');
  const secrets = ((account?.imagePullSecrets ?? []) as { name?: string }[]).filter((s) => s?.name);
  if (!secrets.length) return obj;
  return { ...obj, spec: { ...obj.spec, imagePullSecrets: secrets.map((s) => ({ name: s.name })) } };
}
