// A pod's volumes on the node, as the kubelet's volume manager lays them out: each under
// <data-dir>/pods/<uid>/volumes/<plugin>/<name> (emptyDir, configMap, secret, downwardAPI, projected), or the host
// folder a hostPath volume or a bound claim's PersistentVolume names. Containers then get bind mounts of them.
import { execFile } from 'node:child_process';
import { mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { KubeObject } from '../../model/object.ts';
import { parseQuantity } from '../../model/quantity.ts';
import type { Store } from '../../store/store.ts';
import { ConfigError, fieldValue, resourceValue, secretData } from '../env.ts';
import type { Mount } from '../runtime/runtime.ts';
import { writeAtomically, type FileProjection } from './atomic-writer.ts';
import { escapeMountField, unescapeMountField } from './mount-table.ts';

const run = promisify(execFile);

/** Why a volume cannot be set up (the pod waits in ContainerCreating with a FailedMount event, and retries). */
export class VolumeError extends Error {}

export interface VolumeContext {
  store: Store;
  dataDir: string;
  podIP: string;
  hostIP: string;
  /** Node allocatable in cores and bytes, for resourceFieldRef files. */
  allocatable: { cpu: number; memory: number };
}

/** One volume ready on the node: the host path containers mount. */
export interface ReadyVolume {
  hostPath: string;
  /** Mounted read-only whatever the mount says (configMap, secret, downwardAPI, projected; a read-only claim). */
  readOnly: boolean;
  /** Written by the node from objects (configMap …): rewritten when they change. */
  projected: boolean;
}

/** The kubelet's plugin folder names. */
const PLUGIN: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir', configMap: 'kubernetes.io~configmap', secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api', projected: 'kubernetes.io~projected',
};

export const podVolumesDir = (dataDir: string, uid: string) => join(dataDir, 'pods', uid, 'volumes');

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Sets up every volume of `pod` (idempotent: a second call refreshes what objects feed). */
export async function setUpVolumes(pod: KubeObject, ctx: VolumeContext): Promise<Map<string, ReadyVolume>> {
  const out = new Map<string, ReadyVolume>();
  for (const vol of (pod.spec?.volumes ?? []) as any[]) {
    try {
      out.set(vol.name, await setUpVolume(pod, vol, ctx));
    } catch (e) {
      throw new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${errText(e)}`);
    }
  }
  return out;
}

/** Rewrites the volumes fed by ConfigMaps, Secrets and the pod itself; true when any file changed. */
export async function refreshVolumes(pod: KubeObject, ctx: VolumeContext): Promise<boolean> {
  let changed = false;
  for (const vol of (pod.spec?.volumes ?? []) as any[]) {
    const kind = ['configMap', 'secret', 'downwardAPI', 'projected'].find((k) => vol[k]);
    if (!kind) continue;
    const payload = await payloadOf(pod, vol, kind, ctx);
    if (payload) changed = (await writeAtomically(volumeDir(ctx.dataDir, pod, kind, vol.name), payload)) || changed;
  }
  return changed;
}

/** Removes the pod's volume folders (unmounting memory-backed ones first). A claim's data is not in them. */
export async function tearDownVolumes(dataDir: string, uid: string, opts: { mounted?: boolean } = {}): Promise<void> {
  const dir = podVolumesDir(dataDir, uid);
  // `mounted: false`: the pod's spec has no volume this node mounts (a tmpfs emptyDir), so the mount table need not
  // be read (a read of the host's whole table per pod of a 1,000-pod deletion).
  if (opts.mounted !== false) for (const m of await mountsUnder(dir)) await run('umount', ['-l', m]).catch(() => {});
  await rm(join(dataDir, 'pods', uid), { recursive: true, force: true });
}

/** Whether the pod has a volume the node mounts on the host (emptyDir medium Memory, a tmpfs): the only mounts it makes. */
export const mountsOnHost = (pod: KubeObject) => ((pod.spec?.volumes ?? []) as { emptyDir?: { medium?: string } }[]).some((v) => v.emptyDir?.medium === 'Memory');

const volumeDir = (dataDir: string, pod: KubeObject, kind: string, name: string) => join(podVolumesDir(dataDir, pod.metadata.uid!), PLUGIN[kind], name);

/** The host folder of the pod's emptyDir volume `name` (a tmpfs mount point for medium Memory). */
export const emptyDirPath = (dataDir: string, pod: KubeObject, name: string) => volumeDir(dataDir, pod, 'emptyDir', name);

async function setUpVolume(pod: KubeObject, vol: any, ctx: VolumeContext): Promise<ReadyVolume> {
  if (vol.emptyDir) {
    const dir = volumeDir(ctx.dataDir, pod, 'emptyDir', vol.name);
    await mkdir(dir, { recursive: true, mode: 0o777 });
    if (vol.emptyDir.medium === 'Memory' && !(await mountsUnder(dir)).includes(dir)) {
      // tmpfs, as the kubelet mounts it: its size is the sizeLimit, else the node's allocatable memory.
      const size = vol.emptyDir.sizeLimit !== undefined ? parseQuantity(vol.emptyDir.sizeLimit) : ctx.allocatable.memory;
      await run('mount', ['-t', 'tmpfs', '-o', `size=${Math.max(4096, Math.floor(size))},mode=0777`, 'tmpfs', dir]).catch((e) => {
        throw new Error(`mounting a tmpfs for medium Memory: ${String(e.stderr || e.message).trim()}`);
      });
    }
    return { hostPath: dir, readOnly: false, projected: false };
  }
  for (const kind of ['configMap', 'secret', 'downwardAPI', 'projected']) {
    if (!vol[kind]) continue;
    const dir = volumeDir(ctx.dataDir, pod, kind, vol.name);
    const payload = await payloadOf(pod, vol, kind, ctx);
    await writeAtomically(dir, payload ?? new Map());
    return { hostPath: dir, readOnly: true, projected: true };
  }
  if (vol.hostPath) {
    await checkHostPath(vol.hostPath.path, vol.hostPath.type ?? '');
    return { hostPath: vol.hostPath.path, readOnly: false, projected: false };
  }
  if (vol.persistentVolumeClaim) return claimVolume(pod, vol.persistentVolumeClaim, ctx);
  throw new Error(`volume "${vol.name}" has a type convergit does not mount`);
}

/** The folder of the PersistentVolume bound to the claim; the claim must be bound. */
async function claimVolume(pod: KubeObject, src: { claimName: string; readOnly?: boolean }, ctx: VolumeContext): Promise<ReadyVolume> {
  const ns = pod.metadata.namespace ?? 'default';
  const pvc = await ctx.store.get('PersistentVolumeClaim', ns, src.claimName);
  if (!pvc) throw new Error(`persistentvolumeclaim "${src.claimName}" not found`);
  if (pvc.status?.phase !== 'Bound' || !pvc.spec?.volumeName) throw new Error(`PersistentVolumeClaim ${ns}/${src.claimName} is not bound`);
  const pv = await ctx.store.get('PersistentVolume', undefined, pvc.spec.volumeName);
  if (!pv) throw new Error(`persistentvolume "${pvc.spec.volumeName}" not found`);
  const path: string | undefined = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (!path) throw new Error(`PersistentVolume ${pv.metadata.name} is neither hostPath nor local, which this node cannot mount`);
  await checkHostPath(path, pv.spec?.hostPath?.type ?? (pv.spec?.local ? 'Directory' : ''));
  const readOnly = !!src.readOnly || (pvc.spec.accessModes ?? []).every((m: string) => m === 'ReadOnlyMany');
  return { hostPath: path, readOnly, projected: false };
}

/** hostPath's `type` checks, with the kubelet's messages; the *OrCreate types (and no type) create what is missing. */
async function checkHostPath(path: string, type: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  switch (type) {
    // No check, but a missing source is made a directory, as containerd, CRI-O and Docker do when they bind it.
    case '': if (!st) await mkdir(path, { recursive: true, mode: 0o755 }); return;
    case 'DirectoryOrCreate': if (!st) await mkdir(path, { recursive: true, mode: 0o755 }); else if (!st.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`); return;
    case 'Directory': if (!st?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`); return;
    case 'FileOrCreate': if (!st) await writeFile(path, '', { mode: 0o644, flag: 'a' }); else if (!st.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`); return;
    case 'File': if (!st?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`); return;
    case 'Socket': if (!st?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`); return;
    case 'CharDevice': if (!st?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`); return;
    case 'BlockDevice': if (!st?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`); return;
    default: throw new Error(`hostPath type ${JSON.stringify(type)} is unknown`);
  }
}

// ---- payloads ---------------------------------------------------------------------------------------------------

const DEFAULT_MODE = 0o644;

/** The files of a configMap/secret/downwardAPI/projected volume; undefined for other kinds. */
async function payloadOf(pod: KubeObject, vol: any, kind: string, ctx: VolumeContext): Promise<Map<string, FileProjection> | undefined> {
  const out = new Map<string, FileProjection>();
  const src = vol[kind];
  const mode = src.defaultMode ?? DEFAULT_MODE;
  if (kind === 'configMap') await objectFiles(pod, 'ConfigMap', src.name, src, mode, ctx, out);
  else if (kind === 'secret') await objectFiles(pod, 'Secret', src.secretName, src, mode, ctx, out);
  else if (kind === 'downwardAPI') downwardFiles(pod, src.items ?? [], mode, ctx, out);
  else if (kind === 'projected') {
    for (const s of src.sources ?? []) {
      if (s.configMap) await objectFiles(pod, 'ConfigMap', s.configMap.name, s.configMap, mode, ctx, out);
      if (s.secret) await objectFiles(pod, 'Secret', s.secret.name, s.secret, mode, ctx, out);
      if (s.downwardAPI) downwardFiles(pod, s.downwardAPI.items ?? [], mode, ctx, out);
    }
  } else return undefined;
  return out;
}

/** A ConfigMap's or Secret's keys as files (all of them, or the listed items), with the kubelet's messages. */
async function objectFiles(pod: KubeObject, kind: 'ConfigMap' | 'Secret', name: string, src: any, mode: number, ctx: VolumeContext, out: Map<string, FileProjection>): Promise<void> {
  const ns = pod.metadata.namespace ?? 'default';
  const obj = await ctx.store.get(kind, ns, name ?? '');
  if (!obj) {
    if (src.optional) return;
    throw new Error(`${kind.toLowerCase()} "${name}" not found`);
  }
  const data: Record<string, Buffer> = kind === 'Secret'
    ? Object.fromEntries(Object.entries(secretData(obj)).map(([k, v]) => [k, Buffer.from(v, 'utf8')]))
    : {
        ...Object.fromEntries(Object.entries(obj.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'utf8')])),
        ...Object.fromEntries(Object.entries(obj.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64')])),
      };
  if (kind === 'Secret') for (const [k, v] of Object.entries(obj.data ?? {})) data[k] = Buffer.from(String(v), 'base64'); // binary-safe
  if (!src.items?.length) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: v, mode });
    return;
  }
  for (const item of src.items) {
    if (!(item.key in data)) {
      if (src.optional) continue;
      throw new Error(`${kind === 'Secret' ? 'secret' : 'configmap'} references non-existent ${kind === 'Secret' ? 'secret' : 'config'} key: ${item.key}`);
    }
    out.set(item.path, { data: data[item.key], mode: item.mode ?? mode });
  }
}

/** `key="value"` lines, sorted, as the kubelet writes metadata.labels and metadata.annotations. */
const formatMap = (m: Record<string, string> = {}) => Object.keys(m).sort().map((k) => `${k}=${JSON.stringify(m[k])}`).join('\n');

function downwardFiles(pod: KubeObject, items: any[], mode: number, ctx: VolumeContext, out: Map<string, FileProjection>): void {
  for (const item of items) {
    let text: string;
    try {
      if (item.fieldRef) {
        const path: string = item.fieldRef.fieldPath;
        text = path === 'metadata.labels' ? formatMap(pod.metadata.labels)
          : path === 'metadata.annotations' ? formatMap(pod.metadata.annotations)
          : fieldValue(path, pod, { podIP: ctx.podIP, hostIP: ctx.hostIP });
      } else if (item.resourceFieldRef) {
        const c = (pod.spec?.containers ?? []).find((x: any) => x.name === item.resourceFieldRef.containerName);
        if (!c) throw new ConfigError(`resourceFieldRef names no container "${item.resourceFieldRef.containerName}"`);
        text = resourceValue(item.resourceFieldRef, pod, c, ctx);
      } else continue;
    } catch (e) {
      throw new Error(`downwardAPI item ${JSON.stringify(item.path)}: ${errText(e)}`);
    }
    out.set(item.path, { data: Buffer.from(text, 'utf8'), mode: item.mode ?? mode });
  }
}

// ---- mounts -----------------------------------------------------------------------------------------------------

/** The bind mounts of one container: its volumeMounts over the ready volumes, subPaths resolved as the kubelet does. */
export async function containerMounts(container: any, volumes: ReadonlyMap<string, ReadyVolume>): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const m of (container.volumeMounts ?? []) as any[]) {
    const vol = volumes.get(m.name);
    if (!vol) throw new VolumeError(`volumeMount "${m.name}" names no volume of the pod`);
    let hostPath = vol.hostPath;
    if (m.subPath) {
      const root = await realpath(vol.hostPath);
      const wanted = join(root, m.subPath);
      // A missing subPath of a writable volume is created (a folder); a file of a configMap is read through its links.
      if (!vol.projected) await mkdir(wanted, { recursive: true, mode: 0o755 }).catch(() => {});
      const real = await realpath(wanted).catch(() => undefined);
      if (!real) throw new VolumeError(`subPath "${m.subPath}" of volume "${m.name}" does not exist`);
      const rel = relative(root, real);
      if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) throw new VolumeError(`subPath "${m.subPath}" of volume "${m.name}" leads outside the volume`);
      hostPath = real;
    }
    out.push({ hostPath, containerPath: m.mountPath, readOnly: !!m.readOnly || vol.readOnly });
  }
  return out;
}

/** Mount points at or under `dir` (from /proc/self/mountinfo, whose paths escape spaces as \040). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  // Most pods have no mount: the table (hundreds of lines on a busy host) is parsed only when it names the folder
  // (as the table writes it: space, tab, newline and backslash in octal), not once per pod of a 1,000-pod deletion.
  if (!info.includes(escapeMountField(dir))) return [];
  return info.split('\n').map((l) => unescapeMountField(l.split(' ')[4] ?? '')).filter((p) => p === dir || p.startsWith(`${dir}/`));
}
