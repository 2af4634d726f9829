// Address blocks of one data folder, reserved machine-wide: two serves with different data folders never hand out
// the same pod or Service address. Reservations are files, one per data folder, written under an exclusive lock
// (fs-native-extensions, as the data folder's lock), in a folder per family: the process runtime's loopback blocks
// per network namespace (loopback addresses and routes belong to one; `unshare -n` gets a fresh set), podman's in one
// folder for the whole machine (podman's networks are: rootful /etc/cni/net.d, rootless the user's, and the base
// folder is the user's), so serves in two network namespaces never both make a podman network on one subnet. A
// reservation outlives its serve (pods coast through a restart on its addresses); `convergit stop` frees it, and so
// does removing the data folder. The data folder records its blocks (addresses.json), so a restart asks for the same
// ones again.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cidrsOverlap, isLoopbackCidr, normalizeCidr, refuseOverlappingRanges } from '../network/local-route.ts';
import { readLockOwner } from './data-dir-lock.ts';
import { writeFileWholeSync } from '../store/durable-file.ts';

const { waitForLock } = createRequire(import.meta.url)('fs-native-extensions') as { waitForLock(fd: number): Promise<boolean> };

export interface AddressBlocks { clusterCIDR: string; serviceCIDR: string }
interface Reservation extends AddressBlocks { dataDir: string }
export type AddressFamily = 'process' | 'podman';

/**
 * The automatic blocks, in order. The first are the documented defaults; the process runtime's next ones start at
 * 127.128.0.0/16, above the room a default serve's hollow nodes grow into (node-registration.ts).
 */
export function candidates(family: AddressFamily): AddressBlocks[] {
  if (family === 'podman') {
    return Array.from({ length: 12 }, (_, i) => ({ clusterCIDR: `10.${244 + i}.0.0/16`, serviceCIDR: `10.${96 + i}.0.0/16` }));
  }
  return [{ clusterCIDR: '127.1.0.0/16', serviceCIDR: '127.2.0.0/16' },
    ...Array.from({ length: 63 }, (_, i) => ({ clusterCIDR: `127.${128 + 2 * i}.0.0/16`, serviceCIDR: `127.${129 + 2 * i}.0.0/16` }))];
}

/** $CONVERGIT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/convergit, else /run/convergit (root) or <tmp>/convergit-<uid>. */
export function runtimeDir(env = process.env): string {
  return env.CONVERGIT_RUNTIME_DIR
    ?? (env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'convergit') : process.getuid?.() === 0 ? '/run/convergit' : path.join(os.tmpdir(), `convergit-${process.getuid?.() ?? 'user'}`));
}

/** The reservations of a family under `base`: podman's machine-wide, the process runtime's per network namespace. */
export function blocksDir(family: AddressFamily, base = runtimeDir()): string {
  if (family === 'podman') return path.join(base, 'podman', 'address-blocks');
  let netns = 'host';
  try {
    netns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? netns; // "net:[4026531840]"
  } catch { /* not Linux */ }
  return path.join(base, `net-${netns}`, 'address-blocks');
}

/** The process runtime's reservations of this network namespace (what a test shard frees). */
export const machineDir = (env = process.env): string => blocksDir('process', runtimeDir(env));

/** Every per-namespace folder under `base`: podman reservations written there before podman's were machine-wide. */
const namespaceDirs = (base: string): string[] => {
  try {
    return readdirSync(base).filter((n) => n.startsWith('net-')).map((n) => path.join(base, n, 'address-blocks')).filter((d) => existsSync(d));
  } catch {
    return [];
  }
};

const recordFile = (dataDir: string) => path.join(dataDir, 'addresses.json');
const reservationFile = (dir: string, dataDir: string) => path.join(dir, `${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}.json`);

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileWholeSync(file, `${JSON.stringify(value)}\n`);
}

const same = (a: AddressBlocks | undefined, b: AddressBlocks) => a?.clusterCIDR === b.clusterCIDR && a?.serviceCIDR === b.serviceCIDR;
const overlaps = (a: AddressBlocks, b: AddressBlocks) =>
  [a.clusterCIDR, a.serviceCIDR].some((x) => cidrsOverlap(x, b.clusterCIDR) || cidrsOverlap(x, b.serviceCIDR));

/** A reservation still holds: its data folder is there and records these blocks. */
const isLive = (r: Reservation): boolean => existsSync(r.dataDir) && same(readJson<AddressBlocks>(recordFile(r.dataDir)), r);

/** The other data folders' live reservations; stale ones (folder removed, or it records other blocks now) are deleted. */
function othersOf(dir: string, dataDir: string): Reservation[] {
  const live: Reservation[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name);
    const r = readJson<Reservation>(file);
    if (!r?.dataDir || !r.clusterCIDR || !r.serviceCIDR) { rmSync(file, { force: true }); continue; }
    if (r.dataDir === dataDir) continue;
    if (!isLive(r)) { rmSync(file, { force: true }); continue; }
    live.push(r);
  }
  return live;
}

/**
 * Podman reservations an older convergit wrote in a per-namespace folder are moved into the machine-wide one (called
 * under its lock): they hold podman subnets for every namespace, and a folder whose pods coast keeps its blocks.
 */
function moveNamespacePodmanReservations(dir: string, base: string): void {
  for (const old of namespaceDirs(base)) {
    for (const name of readdirSync(old).filter((n) => n.endsWith('.json'))) {
      const r = readJson<Reservation>(path.join(old, name));
      if (!r?.dataDir || !r.clusterCIDR || !r.serviceCIDR || isLoopbackCidr(r.clusterCIDR)) continue;
      if (isLive(r) && !existsSync(path.join(dir, name))) writeJson(path.join(dir, name), r);
      rmSync(path.join(old, name), { force: true });
    }
  }
}

function describe(r: Reservation): string {
  const owner = readLockOwner(r.dataDir);
  const running = owner?.command === 'serve' ? `its serve pid ${owner.pid}${owner.url ? `, API ${owner.url}` : ''}` : 'no serve runs on it now; its pods may';
  return `data folder ${r.dataDir} (${running}) holds ${r.clusterCIDR} and ${r.serviceCIDR}`;
}

async function withMachineLock<T>(dir: string, fn: () => T): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(path.join(dir, '.lock'), 'a+', 0o600);
  try {
    await waitForLock(fd);
    return fn();
  } finally {
    closeSync(fd); // drops the lock
  }
}

/**
 * The blocks this data folder's serve uses: the flags given, else those it recorded, else the first automatic ones
 * no other data folder holds. A clash with another folder's blocks is refused, naming it.
 */
export async function reserveAddressBlocks(dataDir: string, family: AddressFamily, explicit: Partial<AddressBlocks>, base = runtimeDir()): Promise<AddressBlocks> {
  const dir = blocksDir(family, base);
  return withMachineLock(dir, () => {
    if (family === 'podman') moveNamespacePodmanReservations(dir, base);
    const others = othersOf(dir, dataDir);
    const recorded = readJson<AddressBlocks>(recordFile(dataDir));
    // Blocks recorded for the other runtime (the folder switched) are not asked for again: pods now need the other kind.
    const ours = recorded && [recorded.clusterCIDR, recorded.serviceCIDR].every((c) => isLoopbackCidr(c) === (family === 'process')) ? recorded : undefined;
    const free = (b: AddressBlocks) => !others.some((o) => overlaps(o, b));
    const wanted = (c: AddressBlocks): AddressBlocks => ({
      clusterCIDR: explicit.clusterCIDR ?? c.clusterCIDR, serviceCIDR: explicit.serviceCIDR ?? c.serviceCIDR,
    });
    let blocks: AddressBlocks | undefined = explicit.clusterCIDR && explicit.serviceCIDR ? wanted(explicit as AddressBlocks)
      : ours && free(wanted(ours)) ? wanted(ours)
      : candidates(family).map(wanted).find(free);
    if (!blocks) throw new Error(`no free address blocks left on this machine: ${others.map(describe).join('; ')}`);
    blocks = { clusterCIDR: normalizeCidr(blocks.clusterCIDR), serviceCIDR: normalizeCidr(blocks.serviceCIDR) };
    // Refused before anything is written: a bad pair of flags must not hold blocks for the folder.
    refuseOverlappingRanges(blocks.serviceCIDR, blocks.clusterCIDR);
    const clash = others.find((o) => overlaps(o, blocks!));
    if (clash) {
      throw new Error(`--cluster-cidr ${blocks.clusterCIDR} / --service-cidr ${blocks.serviceCIDR} overlap the blocks of another convergit: ${describe(clash)}; `
        + `give other ranges, or leave the flags out for free ones (convergit stop --data-dir ${JSON.stringify(clash.dataDir)} frees its blocks)`);
    }
    writeJson(recordFile(dataDir), blocks);
    writeJson(reservationFile(dir, dataDir), { dataDir, ...blocks });
    return blocks;
  });
}

/**
 * Frees the data folder's reservation, whichever family's folder holds it (its record stays: the next serve asks for
 * the same blocks first).
 */
export async function releaseAddressBlocks(dataDir: string, base = runtimeDir()): Promise<AddressBlocks | undefined> {
  let freed: Reservation | undefined;
  for (const dir of new Set([blocksDir('podman', base), blocksDir('process', base), ...namespaceDirs(base)])) {
    if (!existsSync(reservationFile(dir, dataDir))) continue;
    freed = await withMachineLock(dir, () => {
      const file = reservationFile(dir, dataDir);
      const r = readJson<Reservation>(file);
      rmSync(file, { force: true });
      return r;
    }) ?? freed;
  }
  return freed;
}

/** The data folders holding podman blocks (every namespace's older reservations too), stale ones left out. */
export function podmanReservationFolders(base = runtimeDir()): string[] {
  const dirs = [blocksDir('podman', base), ...namespaceDirs(base)].filter((d) => existsSync(d));
  return dirs.flatMap((dir) => readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => readJson<Reservation>(path.join(dir, n))))
    .filter((r): r is Reservation => !!r?.dataDir && !!r.clusterCIDR && !isLoopbackCidr(r.clusterCIDR) && isLive(r)).map((r) => r.dataDir);
}

/**
 * Whether the data folder still holds `subnet`: it exists, and its recorded cluster block (when it has one) contains
 * it. A podman network of a folder that holds its subnet is never removed by another serve (its pods may coast).
 */
export function folderHoldsSubnet(dataDir: string, subnet: string): boolean {
  if (!existsSync(dataDir)) return false;
  const recorded = readJson<AddressBlocks>(recordFile(dataDir));
  return !recorded?.clusterCIDR || cidrsOverlap(recorded.clusterCIDR, subnet);
}
