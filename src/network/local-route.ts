// A service CIDR outside loopback (podman's 10.96.0.0/16) made local to the host: `ip route add local <cidr> dev
// lo`, so the userspace proxy can listen on any ClusterIP in it, and a pod's packets to a ClusterIP, which leave
// its network namespace through its bridge's gateway (the host), are delivered to those listeners. The host reaches
// them the same way. The route is recorded in the data folder when this serve added it, so that only a route of
// its own is ever removed (by `convergit stop`); serve leaves it in place when it stops, as it leaves the pods.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cidrsOverlap, parseCidr } from '../model/ip-pool.ts';

const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** `10.96.3.0/16` → `10.96.0.0/16`, as `ip route` prints it. */
export function normalizeCidr(cidr: string): string {
  const { first, size } = parseCidr(cidr);
  return `${toIp(first)}/${32 - Math.log2(size)}`;
}

export { cidrsOverlap };

/** Refuses a service CIDR that overlaps the cluster CIDR: a ClusterIP could be a pod's address. */
export function refuseOverlappingRanges(serviceCIDR: string, clusterCIDR: string): void {
  if (cidrsOverlap(serviceCIDR, clusterCIDR)) throw new Error(`--service-cidr ${serviceCIDR} overlaps the cluster CIDR ${clusterCIDR}: give disjoint ranges`);
}

export const isLoopbackCidr = (cidr: string) => normalizeCidr(cidr).startsWith('127.') && parseCidr(cidr).size <= 2 ** 24;

const recordFile = (dataDir: string) => join(dataDir, 'network', 'local-route.json');

function ip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && !stderr ? err.message : '') });
    });
  });
}

interface RouteRow { dst?: string; type?: string; dev?: string; protocol?: string }

async function routes(table: 'main' | 'local'): Promise<RouteRow[]> {
  const r = await ip(['-j', '-4', 'route', 'show', 'table', table]);
  if (r.code !== 0) throw new Error(`ip route show table ${table}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout || '[]') as RouteRow[];
}

/** The host's routes (main table, but the default) that a service CIDR would clash with. */
export async function clashingRoutes(cidr: string): Promise<string[]> {
  const out: string[] = [];
  for (const r of await routes('main')) {
    if (!r.dst || r.dst === 'default') continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    if (cidrsOverlap(dst, cidr)) out.push(`${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`);
  }
  return out;
}

/**
 * Makes `cidr` local to the host, unless it already is. Returns whether the route is this data folder's (added
 * now, or by an earlier serve on it that did not remove it). Throws with what to do when it cannot.
 */
export async function ensureLocalRoute(cidr: string, dataDir: string): Promise<{ ours: boolean; added: boolean }> {
  const dst = normalizeCidr(cidr);
  const recorded = readRecord(dataDir) === dst;
  const present = (await routes('local')).some((r) => r.type === 'local' && r.dst === dst);
  if (present) return { ours: recorded, added: false };
  const r = await ip(['route', 'add', 'local', dst, 'dev', 'lo']);
  if (r.code !== 0) {
    throw new Error(`service CIDR ${dst} is not on loopback, and making it local to this host failed (ip route add local ${dst} dev lo: `
      + `${r.stderr.trim()}): run as root, or give a 127.x --service-cidr`);
  }
  mkdirSync(dirname(recordFile(dataDir)), { recursive: true });
  writeFileSync(recordFile(dataDir), JSON.stringify({ cidr: dst }) + '\n');
  return { ours: true, added: true };
}

/** Removes the local route this data folder added, if any (and only that). Returns the CIDR removed. */
export async function removeOwnLocalRoute(dataDir: string): Promise<string | undefined> {
  const dst = readRecord(dataDir);
  if (!dst) return undefined;
  const present = (await routes('local').catch(() => [])).some((r) => r.type === 'local' && r.dst === dst);
  if (present) {
    const r = await ip(['route', 'del', 'local', dst, 'dev', 'lo']);
    if (r.code !== 0) throw new Error(`ip route del local ${dst} dev lo: ${r.stderr.trim()}`);
  }
  rmSync(recordFile(dataDir), { force: true });
  return present ? dst : undefined;
}

function readRecord(dataDir: string): string | undefined {
  const file = recordFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).cidr;
  } catch {
    return undefined;
  }
}
