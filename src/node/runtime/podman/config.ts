// The containers.conf convergit points podman at (CONTAINERS_CONF): ulimits at or below this machine's hard limits
// (podman's defaults exceed them on some machines and the OCI runtime fails with "error setting rlimit"), cgroupfs
// (no systemd needed), the events file (how exits are seen), and runc where crun refuses hybrid cgroups.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const NOFILE = 1024 * 1024;
const NPROC = 4096;

/** This process's hard limit (`Max open files`, `Max processes`), or undefined when unlimited or unknown. */
function hardLimit(name: 'Max open files' | 'Max processes'): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const hard = line?.slice(name.length).trim().split(/\s+/)[1];
    return hard && /^\d+$/.test(hard) ? Number(hard) : undefined;
  } catch {
    return undefined;
  }
}

/** cgroup v1 with a v2 hierarchy holding controllers: crun (1.8) refuses it, runc copes. */
function hybridCgroups(): boolean {
  try {
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

const findRunc = () => ['/usr/bin/runc', '/usr/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p));

export function containersConf(): string {
  const nofile = Math.min(NOFILE, hardLimit('Max open files') ?? NOFILE);
  const nproc = Math.min(NPROC, hardLimit('Max processes') ?? NPROC);
  const runc = hybridCgroups() ? findRunc() : undefined;
  return [
    '# Written by convergit for the podman it runs (CONTAINERS_CONF). Regenerated at every start.',
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    ...(runc ? ['runtime = "runc"'] : []),
    '',
  ].join('\n');
}

/** Writes `<dir>/containers.conf` and returns its path. */
export async function writeContainersConf(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'containers.conf');
  await writeFile(file, containersConf());
  return file;
}

// ---- registry mirrors (registries.conf) --------------------------------------------------------------------------
// Pulls of a registry's images tried first at its mirrors, in order, then at the registry itself, as containerd's
// hosts.toml and CRI-O's registries.conf do on a cluster's nodes. Images keep their names (docker.io/library/nginx).

export interface RegistryMirror {
  /** The registry mirrored: `docker.io`, `quay.io`, `registry.k8s.io`, `localhost:5000`. */
  registry: string;
  /** Where its images are pulled from instead: `127.0.0.1:5000`, `mirror.example.com/quay`. */
  location: string;
  /** Plain HTTP (the mirror was given as http://…). */
  insecure: boolean;
}

const REGISTRY_HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/;
const PATH_PART = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Parses `<registry>=<http|https>://<host>[:port][/path]`; throws with what is wrong. */
export function parseRegistryMirror(value: string): RegistryMirror {
  const at = value.indexOf('=');
  const example = 'such as docker.io=http://127.0.0.1:5000';
  if (at < 1) throw new Error(`"${value}" is not <registry>=<mirror URL>, ${example}`);
  let registry = value.slice(0, at).trim().toLowerCase();
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (!REGISTRY_HOST.test(registry) || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    throw new Error(`"${value}": "${value.slice(0, at)}" is not a registry host such as docker.io, quay.io or localhost:5000`);
  }
  const raw = value.slice(at + 1).trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new Error(`"${value}": the mirror must be an http:// or https:// URL, such as http://${raw || '127.0.0.1:5000'}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`"${value}": "${raw}" is not a URL, ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${value}": the mirror must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) throw new Error(`"${value}": credentials do not belong in the mirror URL (imagePullSecrets carry them)`);
  if (url.search || url.hash) throw new Error(`"${value}": the mirror URL may not have a query or a fragment`);
  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  if (path && !path.split('/').every((p) => PATH_PART.test(p))) throw new Error(`"${value}": "/${path}" is not a repository path (lower case letters, digits, '.', '_', '-')`);
  return { registry, location: url.host + (path ? `/${path}` : ''), insecure: url.protocol === 'http:' };
}

/** The registries.conf (v2) of the given mirrors, grouped by registry in the order given. */
export function registriesConf(mirrors: RegistryMirror[]): string {
  const byRegistry = new Map<string, RegistryMirror[]>();
  for (const m of mirrors) byRegistry.set(m.registry, [...(byRegistry.get(m.registry) ?? []), m]);
  const lines = ['# Written by convergit for the podman it runs (CONTAINERS_REGISTRIES_CONF), from --registry-mirror.'];
  for (const [registry, ms] of byRegistry) {
    lines.push('', '[[registry]]', `prefix = ${JSON.stringify(registry)}`, `location = ${JSON.stringify(registry)}`);
    for (const m of ms) lines.push('[[registry.mirror]]', `location = ${JSON.stringify(m.location)}`, `insecure = ${m.insecure}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes `<dir>/registries.conf` and returns its path; without mirrors removes it and returns undefined (podman's own applies). */
export async function writeRegistriesConf(dir: string, mirrors: RegistryMirror[] = []): Promise<string | undefined> {
  const file = join(dir, 'registries.conf');
  if (!mirrors.length) {
    await rm(file, { force: true });
    return undefined;
  }
  await mkdir(dir, { recursive: true });
  await writeFile(file, registriesConf(mirrors));
  return file;
}
