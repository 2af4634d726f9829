// Table columns of a custom resource from its CRD's additionalPrinterColumns, as the apiextensions-apiserver
// builds them (tableconvertor.go): Name, then each column's JSONPath result typed by the column's type; a CRD
// version without columns gets the default Age column. priority > 0 columns are shown by `-o wide` only.
import { JSONPath } from 'jsonpath-plus';
import type { KubeObject } from '../model/object.ts';
import type { CrdVersion } from '../model/custom-kinds.ts';
import { since as age } from './age.ts';
import type { Column } from './tables.ts';

interface PrinterColumn { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }

const DEFAULT: PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' }];

/** A cell as cellForJSONValue types it: a value of the wrong type is no value (nil, printed `<none>`). */
function typed(type: string, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'integer': return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number': return typeof v === 'number' ? v : null;
    case 'boolean': return typeof v === 'boolean' ? v : null;
    // jsonpath's text output: strings as they are, other values as JSON.
    case 'string': return typeof v === 'string' ? v : JSON.stringify(v);
    case 'date': return typeof v === 'string' ? (Number.isNaN(Date.parse(v)) ? '<invalid>' : age(v)) : null;
  }
  return null;
}

/** The first result of a kube JSONPath (`.status.conditions[?(@.type=="Ready")].status`) on an object. */
function first(path: string, o: KubeObject): unknown {
  const inner = path.replace(/^\{(.*)\}$/, '$1');
  try {
    const found = JSONPath({ path: inner.startsWith('$') ? inner : `$${inner}`, json: o as any, wrap: true });
    return Array.isArray(found) ? found[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The columns of `version` of a CRD. */
export function crdColumns(crd: KubeObject, version: string): Column[] {
  const v = (crd.spec?.versions as CrdVersion[] | undefined)?.find((x) => x.name === version);
  const given = (v?.additionalPrinterColumns ?? []) as PrinterColumn[];
  const cols = given.length ? given : DEFAULT;
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name },
    ...cols.map((c) => ({
      name: c.name, type: c.type, format: c.format, priority: c.priority,
      description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      cell: (o: KubeObject) => typed(c.type, first(c.jsonPath, o)),
    })),
  ];
}
