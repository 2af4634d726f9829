// Which IngressClass an Ingress belongs to and whether convergit's ingress controller runs it, decided as
// Kubernetes decides it: the deprecated `kubernetes.io/ingress.class` annotation, else `spec.ingressClassName`,
// else the default class (the IngressClass annotated `ingressclass.kubernetes.io/is-default-class: "true"`; the
// newest when several are, as the DefaultIngressClass admission plugin picks since 1.28). convergit's own class,
// `convergit`, exists without being committed and is the default unless a committed class says otherwise.
import type { KubeObject } from './object.ts';
import { compareText } from './compare-text.ts';

export const INGRESS_CONTROLLER = 'convergit.dev/ingress';
export const INGRESS_CLASS = 'convergit';
export const IS_DEFAULT_CLASS = 'ingressclass.kubernetes.io/is-default-class';
export const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The IngressClass convergit creates when serve starts, as the built-in namespaces are. */
export const builtinIngressClass = (): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: INGRESS_CLASS, annotations: { [IS_DEFAULT_CLASS]: 'true' } },
  spec: { controller: INGRESS_CONTROLLER },
});

/** The classes known: those given, plus convergit's own when it is not among them (not created yet). */
function withBuiltin(classes: readonly KubeObject[]): KubeObject[] {
  return classes.some((c) => c.metadata.name === INGRESS_CLASS) ? [...classes] : [...classes, { ...builtinIngressClass(), metadata: { ...builtinIngressClass().metadata, creationTimestamp: '' } }];
}

/** The default IngressClass: the newest of those marked default. */
export function defaultIngressClass(classes: readonly KubeObject[]): KubeObject | undefined {
  const defaults = withBuiltin(classes).filter((c) => c.metadata.annotations?.[IS_DEFAULT_CLASS] === 'true');
  // One not created yet (a commit's, being validated) is the newest; convergit's own, when absent, the oldest.
  const created = (c: KubeObject) => String(c.metadata.creationTimestamp ?? '\uffff');
  return defaults.sort((a, b) => compareText(created(b), created(a)) || compareText(a.metadata.name, b.metadata.name))[0];
}

/** The class an Ingress is of: named by the annotation or the field, else the default class. */
export function ingressClassOf(ing: KubeObject, classes: readonly KubeObject[]): string | undefined {
  const annotated = ing.metadata.annotations?.[CLASS_ANNOTATION];
  if (typeof annotated === 'string' && annotated) return annotated;
  const named = ing.spec?.ingressClassName;
  if (typeof named === 'string' && named) return named;
  return defaultIngressClass(classes)?.metadata.name;
}

export interface IngressOwnership {
  /** true when convergit's controller routes this Ingress. */
  run: boolean;
  className?: string;
  /** Why it is not run, as a sentence's end: "its class "nginx" is run by controller k8s.io/ingress-nginx". */
  reason?: string;
}

/** Whether convergit runs `ing`, given the IngressClasses that exist. */
export function ingressOwnership(ing: KubeObject, classes: readonly KubeObject[]): IngressOwnership {
  const className = ingressClassOf(ing, classes);
  if (!className) return { run: false, reason: 'it names no IngressClass and no class is the default' };
  const cls = withBuiltin(classes).find((c) => c.metadata.name === className);
  if (!cls) return { run: false, className, reason: `its IngressClass "${className}" does not exist` };
  const controller = cls.spec?.controller;
  if (controller === INGRESS_CONTROLLER) return { run: true, className };
  return { run: false, className, reason: `its IngressClass "${className}" is for controller ${controller ?? '(none)'}, not ${INGRESS_CONTROLLER}` };
}
