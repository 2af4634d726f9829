// The part of js-yaml 4 (installed as js-yaml-4 beside js-yaml 5) that plain-yaml.ts uses.
declare module 'js-yaml-4' {
  namespace yaml4 {
    interface LoaderState { position: number; kind: 'scalar' | 'sequence' | 'mapping' | null; result: unknown }
    class Type {
      constructor(tag: string, options: { kind: 'scalar'; resolve: (data: string) => boolean; construct: (data: string) => unknown });
    }
    interface Schema { extend(types: { implicit?: Type[]; explicit?: Type[] }): Schema }
    const FAILSAFE_SCHEMA: Schema;
    class YAMLException extends Error {}
    function loadAll(source: string, iterator: null, options: { schema?: Schema; maxDepth?: number; onWarning?: (e: Error) => void; listener?: (event: 'open' | 'close', state: LoaderState) => void }): unknown[];
  }
  export = yaml4;
}
