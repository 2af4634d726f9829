// Which of other convergit instances' podman networks are stale. Podman's networks belong to the machine (rootful) or
// the user (rootless), not to a data folder: a network left by a data folder that is gone (a serve killed, then its
// folder removed, as test teardowns do) still holds its subnet, and podman refuses any other network on it ("subnet …
// is already used on the host or by another config"): every sandbox of the next serve given that block failed. The
// runtime removes stale networks before it makes one. A network of a live folder is never touched, even with no
// serve running on it: its pods coast on it.
import { existsSync } from 'node:fs';
import { cidrsOverlap } from '../../../model/ip-pool.ts';

/** Every network a convergit instance makes carries it: its data folder, to tell when the network is stale. */
export const DATA_DIR_LABEL = 'convergit.data-dir';

export interface NetworkOwners {
  /** The data folder of an instance whose networks carry no DATA_DIR_LABEL (made by an older convergit), if known. */
  folderOf(instance: string): string | undefined;
  /** Whether the (existing) data folder still holds `subnet`: its recorded address blocks contain it. */
  holds(dataDir: string, subnet: string): boolean;
}

/** What libpod's network list says of a network (its fields are in lower case, unlike containers' and pods'). */
export interface PodmanNetwork {
  name: string;
  network_interface?: string;
  subnets?: { subnet: string }[];
  labels?: Record<string, string>;
}

export const subnetOf = (n: PodmanNetwork): string | undefined => n.subnets?.[0]?.subnet;

/**
 * Another instance's network (labelled `instanceLabel`) is stale when its data folder no longer exists, or, for a
 * node's bridge (named by `nodeNetwork` from its subnet), when the folder records other blocks now. One whose folder
 * is not known (no label, no reservation names it) is stale only when it is on `wanted`, the subnet about to be made:
 * no live folder holds that block (it is reserved for this one), and the network would stop it.
 * Returns why, or undefined when it is live (or not another convergit's).
 */
export function whyStale(n: PodmanNetwork, ctx: { instanceLabel: string; self: string; wanted: string; owners: NetworkOwners; nodeNetwork: (instance: string, subnet: string) => string }): string | undefined {
  const instance = n.labels?.[ctx.instanceLabel];
  const subnet = subnetOf(n);
  if (!instance || instance === ctx.self) return undefined;
  const folder = n.labels?.[DATA_DIR_LABEL] || ctx.owners.folderOf(instance);
  if (!folder) return subnet && cidrsOverlap(subnet, ctx.wanted) ? `no data folder holds ${subnet} now (the network names none, and no reservation is of its instance ${instance})` : undefined;
  if (!existsSync(folder)) return `its data folder ${folder} no longer exists`;
  if (subnet && n.name === ctx.nodeNetwork(instance, subnet) && !ctx.owners.holds(folder, subnet)) return `its data folder ${folder} records other address blocks now`;
  return undefined;
}

/** Who holds `wanted` among podman's networks, for a refused network create ("already used"). */
export function subnetHolders(networks: PodmanNetwork[], wanted: string, instanceLabel: string): string {
  const holders = networks.filter((n) => { const s = subnetOf(n); return s && cidrsOverlap(s, wanted); });
  if (!holders.length) return `no podman network holds ${wanted}: an address of this host's interfaces is in it (ip -4 addr)`;
  return holders.map((n) => {
    const folder = n.labels?.[DATA_DIR_LABEL];
    const owner = !n.labels?.[instanceLabel] ? 'not convergit\'s'
      : folder ? `of the data folder ${folder}${existsSync(folder) ? `, which holds it (\`convergit stop --data-dir ${JSON.stringify(folder)}\` removes it)` : ', which no longer exists'}`
      : `of convergit instance ${n.labels[instanceLabel]}, whose data folder it does not name`;
    return `podman network ${n.name} (${subnetOf(n)}, ${owner}) holds it`;
  }).join('; ');
}
