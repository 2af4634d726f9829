// An Ingress of a class convergit does not run (`ingressClassName: nginx`, or a committed default class of
// another controller) is kept, not run: validated, stored and served, but no listener routes it. One warning per
// such Ingress (an error with --strict), judged with the IngressClasses of the same commit.
import type { Issue } from '../model/issue.ts';
import { CLASS_ANNOTATION, ingressOwnership } from '../model/ingress-class.ts';
import type { KubeObject } from '../model/object.ts';
import { issueAt, type LoadedDoc } from './doc.ts';

export function keptIngresses(docs: LoadedDoc[], strict: boolean): Issue[] {
  const classes = docs.filter((d) => d.kind === 'IngressClass' && d.value?.metadata).map((d) => d.value as KubeObject);
  const out: Issue[] = [];
  for (const d of docs) {
    if (d.kind !== 'Ingress' || !d.value?.metadata) continue;
    const own = ingressOwnership(d.value as KubeObject, classes);
    if (own.run) continue;
    const field = d.value.metadata.annotations?.[CLASS_ANNOTATION] !== undefined ? ['metadata', 'annotations', CLASS_ANNOTATION]
      : d.value.spec?.ingressClassName !== undefined ? ['spec', 'ingressClassName'] : ['kind'];
    const message = `Ingress is kept, not run: ${own.reason}; convergit runs Ingresses of class convergit (the default class)`;
    out.push(issueAt(d, strict ? 'error' : 'warning', field, field, strict ? `${message} (--strict)` : message));
  }
  return out;
}
