// Tests that need podman skip (with a notice) only where it is not installed; .ci/run installs it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Why podman tests cannot run here, or undefined when they can. */
export function podmanMissing(): string | undefined {
  if (process.platform !== 'linux') return 'podman tests need Linux';
  if (process.getuid?.() !== 0) return 'podman tests run rootful podman (run them as root)';
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'podman is not installed (apt-get install podman)';
  }
}

/**
 * Removes what an earlier, killed run left on `subnetPrefix` (e.g. `10-246-`): podman's networks are global to the
 * machine, so a leftover bridge of another data folder on the same subnet would stop this run's from being made.
 */
export function removeLeftoverNetworks(subnetPrefix: string): void {
  const names = execFileSync('podman', ['network', 'ls', '--format', '{{.Name}}'], { encoding: 'utf8' }).split('\n')
    .filter((n) => n.startsWith('convergit-') && n.includes(`-${subnetPrefix}`));
  for (const name of names) {
    const ids = execFileSync('podman', ['ps', '-aq', '--filter', `network=${name}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const pods = execFileSync('podman', ['pod', 'ps', '-q', '--filter', `network=${name}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    // -t 0: a leftover's PID 1 (sleep, a shell loop) may ignore SIGTERM, and podman would wait 10 s for each.
    if (pods.length) execFileSync('podman', ['pod', 'rm', '-f', '-t', '0', ...pods], { stdio: 'ignore' });
    if (ids.length) execFileSync('podman', ['rm', '-f', '-t', '0', ...ids], { stdio: 'ignore' });
    execFileSync('podman', ['network', 'rm', '-f', name], { stdio: 'ignore' });
  }
}

/**
 * Removes the containers and pods a serve on `dataDir` left on podman, at once (-t 0: a shell loop as PID 1 ignores
 * SIGTERM, and podman would wait 10 s for each), and unmounts the tmpfs volumes under the folder before it goes, the
 * pods' namespaces and the instance's networks.
 */
export function removeInstance(dataDir: string): void {
  const instance = createHash('sha256').update(join(dataDir, 'podman')).digest('hex').slice(0, 8);
  spawnSync('podman', ['rm', '-f', '-t', '0', '--filter', `label=convergit.instance=${instance}`]);
  const ps = spawnSync('podman', ['pod', 'ps', '-q', '--filter', `label=convergit.instance=${instance}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ps.length) spawnSync('podman', ['pod', 'rm', '-f', '-t', '0', ...ps]);
  spawnSync('sh', ['-c', `grep -o '${dataDir}/[^ ]*' /proc/self/mountinfo | xargs -r umount -l`]);
  // The pods' own namespaces (pod-namespaces.ts): unmounted, then their files.
  const left = `/run/netns/convergit-${instance}-* /run/convergit/pods/convergit-${instance}-*/ipc /run/convergit/pods/convergit-${instance}-*/shm`;
  spawnSync('sh', ['-c', `for f in ${left}; do [ -e "$f" ] && umount -l "$f"; done; rm -rf /run/netns/convergit-${instance}-* /run/convergit/pods/convergit-${instance}-*`]);
  // Its networks: podman's are the machine's, and one left behind holds its subnet for every later serve. With them
  // what convergit added to their bridges (the masquerade rule, the bridge itself when convergit made it).
  const nets = spawnSync('podman', ['network', 'ls', '-q', '--filter', `label=convergit.instance=${instance}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const name of nets) {
    const [info] = JSON.parse(spawnSync('podman', ['network', 'inspect', name], { encoding: 'utf8' }).stdout || '[{}]');
    spawnSync('podman', ['network', 'rm', '-f', name]);
    const subnet = info?.subnets?.[0]?.subnet;
    if (subnet) spawnSync('iptables', ['-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', subnet, '!', '-d', subnet, '-m', 'comment', '--comment', `convergit:${name}`, '-j', 'MASQUERADE']);
    if (info?.network_interface) spawnSync('ip', ['link', 'del', info.network_interface], { stdio: 'ignore' });
  }
}

/** What `podman network ls` says of a network (libpod's fields, in lower case). */
export interface NetworkInfo { name: string; network_interface: string; subnets?: { subnet: string }[]; labels?: Record<string, string> }

/** podman's networks, those of one convergit instance when given. */
export const podmanNetworks = (instance?: string): NetworkInfo[] => JSON.parse(execFileSync('podman',
  ['network', 'ls', '--format', 'json', ...(instance ? ['--filter', `label=convergit.instance=${instance}`] : [])], { encoding: 'utf8' }));

/** The network interfaces of this network namespace (a bridge is there or not). */
export const interfaces = (): string[] => readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean);

/** The nat table's POSTROUTING rules (convergit's masquerade rule of each bridge is among them). */
export const natPostrouting = (): string[] => execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' }).split('\n').filter(Boolean);
