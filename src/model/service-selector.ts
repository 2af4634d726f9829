// Which Services select a pod: a Service's selector is a plain label map (spec.selector); without one, or with an
// empty one, it selects no pod (its Endpoints are someone else's to write).
import type { KubeObject } from './object.ts';
import type { Informer } from '../store/informer.ts';

export const serviceSelector = (svc: KubeObject): Record<string, string> | undefined => {
  const sel = svc.spec?.selector;
  return sel && Object.keys(sel).length ? sel : undefined;
};

/** The Services of `services` (an informer of them) that select `pod`, found through the pod's own labels. */
export const servicesOf = (services: Informer, pod: KubeObject): KubeObject[] =>
  services.selecting('service-selector', serviceSelector, pod.metadata.namespace ?? 'default', pod.metadata.labels);
