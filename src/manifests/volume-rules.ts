// Kubernetes' validation of a pod's volumes and mounts (ValidateVolumes, ValidateVolumeMounts), plus the node's own
// rule for hostPath: a host folder is mounted only under a prefix the server allows (serve --allow-host-path), as a
// PodSecurity "restricted" cluster refuses hostPath altogether. Checked per commit, with the server's options.
import type { Path } from './paths.ts';
import type { Violation } from './violation.ts';

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const v = (path: Path, message: string): Violation => ({ path, at: path, message });

/** Every source a Volume may name; at most one may be given. */
const SOURCES = [
  'emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI', 'hostPath', 'persistentVolumeClaim', 'nfs', 'iscsi',
  'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte',
  'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
  'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo',
];

/** Where the pod spec sits in an object of `kind`, if it has one. */
export function podSpecPath(kind: string): Path | undefined {
  switch (kind) {
    case 'Pod': return POD;
    case 'PodTemplate': return POD_TEMPLATE;
    case 'CronJob': return CRON_JOB;
    case 'Deployment': case 'ReplicaSet': case 'ReplicationController': case 'Job': case 'StatefulSet': case 'DaemonSet':
      return WORKLOAD;
    default: return undefined;
  }
}
// One array each, not one per call: every commit asks for each of 10,000 objects (issue 14). Frozen: shared.
const POD: Path = Object.freeze(['spec']), POD_TEMPLATE: Path = Object.freeze(['template', 'spec']);
const CRON_JOB: Path = Object.freeze(['spec', 'jobTemplate', 'spec', 'template', 'spec']), WORKLOAD: Path = Object.freeze(['spec', 'template', 'spec']);

/** What is at `at` in `obj` (a pod spec, for podSpecPath's paths) when it and every step to it are objects. */
export function objectAt(obj: unknown, at: Path): Obj | undefined {
  let o = obj;
  for (let k = 0; k < at.length; k++) o = isObj(o) ? o[at[k]] : undefined;
  return isObj(o) ? o : undefined;
}

/** A relative path without `..` elements, as Kubernetes requires of subPath and items' paths. */
function relativePathProblem(p: unknown): string | undefined {
  if (typeof p !== 'string') return undefined;
  if (p.startsWith('/')) return 'must be a relative path';
  if (p.split('/').includes('..')) return "must not contain '..'";
  return undefined;
}

/** `path` lies at or under one of `prefixes` (whole path elements: /data does not allow /database). */
export function underPrefix(path: string, prefixes: readonly string[]): boolean {
  const norm = (p: string) => `/${p.split('/').filter((s) => s && s !== '.').join('/')}`;
  if (path.split('/').includes('..')) return false;
  const p = norm(path);
  return prefixes.some((pre) => {
    const q = norm(pre);
    return q === '/' || p === q || p.startsWith(`${q}/`);
  });
}

function hostPathRule(host: string, p: Path, allowHostPath: readonly string[]): Violation[] {
  if (!host.startsWith('/')) return [v(p, 'must be an absolute path')];
  if (underPrefix(host, allowHostPath)) return [];
  const allowed = allowHostPath.length ? `only ${allowHostPath.map((a) => `"${a}"`).join(', ')}` : 'none';
  return [v(p, `hostPath "${host}" is outside the host folders this server mounts (serve --allow-host-path <prefix> allows a folder; allowed now: ${allowed})`)];
}

function keyPaths(items: unknown, at: Path): Violation[] {
  const out: Violation[] = [];
  list(items).forEach((it, i) => {
    const problem = isObj(it) ? relativePathProblem(it.path) : undefined;
    if (problem) out.push(v([...at, i, 'path'], problem));
  });
  return out;
}

/** The volume and mount rules for the pod spec of `obj` (of `kind`); `allowHostPath` lists the host folders allowed. */
export function volumeViolations(kind: string, obj: Obj, allowHostPath: readonly string[]): Violation[] {
  if (kind === 'PersistentVolume') {
    // A static volume committed in git mounts a host folder too: the same rule.
    const out: Violation[] = [];
    for (const src of ['hostPath', 'local']) {
      const p = obj.spec?.[src]?.path;
      if (typeof p === 'string') out.push(...hostPathRule(p, ['spec', src, 'path'], allowHostPath));
    }
    return out;
  }
  const at = podSpecPath(kind);
  if (!at) return [];
  const spec = objectAt(obj, at);
  if (!spec) return [];
  const out: Violation[] = [];
  const names = new Set<string>();
  // A StatefulSet's claim templates are volumes of its pods too (the controller adds one per template).
  if (kind === 'StatefulSet') for (const t of list(obj.spec?.volumeClaimTemplates)) if (typeof t?.metadata?.name === 'string') names.add(t.metadata.name);
  list(spec.volumes).forEach((vol, i) => {
    if (!isObj(vol)) return;
    const base = [...at, 'volumes', i];
    if (typeof vol.name === 'string') {
      if (names.has(vol.name)) out.push(v([...base, 'name'], `duplicate volume name "${vol.name}"`));
      names.add(vol.name);
    }
    const given = SOURCES.filter((s) => vol[s] !== undefined);
    // No source at all is an emptyDir: the API server defaults it before it validates.
    if (given.length > 1) out.push(v([...base, given[1]], `may not specify more than 1 volume type (${given[0]} is given too)`));
    for (const s of ['configMap', 'secret', 'downwardAPI']) if (isObj(vol[s])) out.push(...keyPaths(vol[s].items, [...base, s, 'items']));
    list(vol.projected?.sources).forEach((src, j) => {
      for (const s of ['configMap', 'secret', 'downwardAPI']) if (isObj(src?.[s])) out.push(...keyPaths(src[s].items, [...base, 'projected', 'sources', j, s, 'items']));
    });
    const host = vol.hostPath?.path;
    if (typeof host === 'string') out.push(...hostPathRule(host, [...base, 'hostPath', 'path'], allowHostPath));
  });
  for (const group of ['initContainers', 'containers']) {
    list(spec[group]).forEach((c, i) => {
      const paths = new Set<string>();
      list(c?.volumeMounts).forEach((m, j) => {
        if (!isObj(m)) return;
        const base = [...at, group, i, 'volumeMounts', j];
        if (typeof m.name === 'string' && !names.has(m.name)) out.push(v([...base, 'name'], `names no volume of this pod ("${m.name}")`));
        if (typeof m.mountPath === 'string') {
          if (paths.has(m.mountPath)) out.push(v([...base, 'mountPath'], `must be unique ("${m.mountPath}" is mounted already)`));
          paths.add(m.mountPath);
        }
        const problem = relativePathProblem(m.subPath);
        if (problem) out.push(v([...base, 'subPath'], problem));
      });
    });
  }
  return out;
}
