// The CustomResourceDefinition controller, as the apiextensions-apiserver's: it makes each CRD's kinds served
// (discovery, lists, watches, the store's scopes) and says so in the CRD's status (NamesAccepted, Established,
// acceptedNames), so `kubectl get crd` and `kubectl wait --for condition=established` behave as on a cluster.
import type { ControllerContext, ControllerSpec } from './controller.ts';
import { kindOfCrd, registerCrds } from '../model/custom-kinds.ts';
import { setCondition } from '../model/conditions.ts';
import { splitKey } from '../model/key.ts';

export function crdController(): ControllerSpec {
  return {
    name: 'crd',
    kinds: ['CustomResourceDefinition'],
    watch(ctx, enqueue) {
      ctx.informer('CustomResourceDefinition').on({
        add: (o) => enqueue(`/${o.metadata.name}`),
        update: (_, o) => enqueue(`/${o.metadata.name}`),
        // A deleted CRD's kinds stop being served.
        delete: () => registerCrds(ctx.informer('CustomResourceDefinition').list()),
      });
    },
    async sync(key, ctx: ControllerContext) {
      const all = ctx.informer('CustomResourceDefinition').list();
      registerCrds(all);
      const crd = ctx.informer('CustomResourceDefinition').get(undefined, splitKey(key).name);
      if (!crd) return;
      const info = kindOfCrd(crd);
      const now = ctx.now().toISOString();
      const status = structuredClone(crd.status ?? {});
      const accepted = !!info;
      let conditions = setCondition(status.conditions, { type: 'NamesAccepted', status: accepted ? 'True' : 'False', reason: accepted ? 'NoConflicts' : 'InvalidNames', message: accepted ? 'no conflicts found' : 'the names are incomplete' }, now);
      conditions = setCondition(conditions, { type: 'Established', status: accepted ? 'True' : 'False', reason: accepted ? 'InitialNamesAccepted' : 'NotAccepted', message: accepted ? 'the initial names have been accepted' : 'not all names are accepted' }, now);
      status.conditions = conditions;
      if (info) {
        status.acceptedNames = { plural: info.resource, singular: info.singular, kind: info.kind, ...(info.shortNames.length ? { shortNames: info.shortNames } : {}), ...(info.categories.length ? { categories: info.categories } : {}) };
        status.storedVersions = [info.version];
      }
      if (JSON.stringify(status) !== JSON.stringify(crd.status)) await ctx.store.updateStatus('CustomResourceDefinition', undefined, crd.metadata.name, status, { shared: true });
    },
  };
}
