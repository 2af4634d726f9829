// A kustomization file read for what it points at: the folders and files kustomize will read, each with where
// it is written, so a remote base or a missing path is refused before kustomize runs, naming the line.
import { parseYaml } from '../manifests/parse.ts';
import { displayPath, type Path } from '../manifests/paths.ts';

/** The names kustomize recognizes, in its order (konfig.RecognizedKustomizationFileNames). */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export const isKustomizationFile = (path: string) => KUSTOMIZATION_FILES.includes(path.slice(path.lastIndexOf('/') + 1));

export interface Reference {
  /** As written, e.g. `../base` or `files: key=config.env` → `config.env`. */
  value: string;
  /** Display path of the field, e.g. `resources[1]`. */
  field: string;
  line: number;
  column: number;
  /** A resource, base, component or plugin config: a file, or a folder kustomize builds as a base. */
  follow: boolean;
}

export interface Kustomization {
  refs: Reference[];
  /** The user asked for `config.kubernetes.io/origin` annotations (`buildMetadata: [originAnnotations]`). */
  originAnnotations: boolean;
  /** A problem that stops the build before kustomize runs (unparsable YAML, Helm charts). */
  problem?: { line: number; column: number; field?: string; message: string };
}

/** Fields holding lists of resources, bases or plugin configs; a string item with a line break is inline YAML. */
const FOLLOWED = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'];
/** Fields holding lists of file paths read from the kustomization's own folder. */
const FILE_LISTS = ['crds', 'configurations', 'patchesStrategicMerge'];
/** Lists of objects with a `path`. */
const PATH_ITEMS = ['patches', 'patchesJson6902', 'replacements'];
const GENERATORS = ['configMapGenerator', 'secretGenerator'];

export function readKustomization(content: string, file: string): Kustomization {
  const parsed = parseYaml(content, file, 100);
  if (parsed.error) return { refs: [], originAnnotations: false, problem: { line: parsed.error.line, column: parsed.error.column, message: parsed.error.message } };
  const doc = parsed.docs[0];
  const k: any = doc?.value ?? {};
  if (typeof k !== 'object' || Array.isArray(k)) return { refs: [], originAnnotations: false, problem: { line: 1, column: 1, message: 'a kustomization must be a YAML mapping' } };
  const refs: Reference[] = [];
  const add = (path: Path, value: unknown, follow: boolean) => {
    if (typeof value !== 'string' || value.includes('\n') || !value.trim()) return; // inline YAML or empty
    refs.push({ value: value.trim(), field: displayPath(path), follow, ...doc.positions.at(path) });
  };
  const list = (name: string): unknown[] => (Array.isArray(k[name]) ? k[name] : []);

  for (const f of FOLLOWED) list(f).forEach((v, i) => add([f, i], v, true));
  for (const f of FILE_LISTS) list(f).forEach((v, i) => add([f, i], v, false));
  for (const f of PATH_ITEMS) list(f).forEach((v: any, i) => add([f, i, 'path'], v?.path, false));
  for (const f of GENERATORS) {
    list(f).forEach((g: any, i) => {
      (Array.isArray(g?.files) ? g.files : []).forEach((v: unknown, j: number) => add([f, i, 'files', j], typeof v === 'string' ? v.slice(v.indexOf('=') + 1) : v, false));
      (Array.isArray(g?.envs) ? g.envs : []).forEach((v: unknown, j: number) => add([f, i, 'envs', j], v, false));
      add([f, i, 'env'], g?.env, false);
    });
  }
  add(['openapi', 'path'], k.openapi?.path, false);

  const originAnnotations = Array.isArray(k.buildMetadata) && k.buildMetadata.includes('originAnnotations');
  const helm = ['helmCharts', 'helmChartInflationGenerator'].find((f) => k[f] !== undefined && k[f] !== null);
  const problem = helm
    ? { ...doc.positions.at([helm]), field: helm, message: `Helm charts are not built (kustomize would need helm and the network); render the chart to YAML and commit that` }
    : undefined;
  return { refs, originAnnotations, problem };
}
