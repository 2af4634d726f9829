// Ingress health, as Argo CD's health_ingress.go: Healthy once the controller has given it an address
// (status.loadBalancer.ingress), Progressing until then. An Ingress of a class convergit does not run is kept:
// nothing will give it an address here, so it is Unknown, not waited on for ever.
import { ingressOwnership } from '../model/ingress-class.ts';
import type { KubeObject } from '../model/object.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

export function ingressHealth(ing: KubeObject, ctx: HealthContext): ObjectHealth {
  const name = `Ingress ${ing.metadata.name}`;
  const own = ingressOwnership(ing, ctx.list('IngressClass'));
  if (!own.run) return { status: 'Unknown', message: `${name} is kept, not run: ${own.reason}` };
  const addresses = (ing.status?.loadBalancer?.ingress ?? []).map((a: { ip?: string; hostname?: string }) => a.ip ?? a.hostname).filter(Boolean);
  if (!addresses.length) return { status: 'Progressing', message: `${name}: waiting for an address` };
  return { status: 'Healthy', message: `${name}: served at ${addresses.join(', ')}` };
}
