// Who listens on a TCP (or holds a UDP) address:port, for a message that names the holder of a port this serve could not open:
// the listening socket's inode from /proc/net/tcp or udp (this network namespace's), then the process with that socket
// open. Linux only; elsewhere, or for another user's process, it says less.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** /proc/net/tcp's `0100007F:1F90` for 127.0.0.1:8080. */
function hexAddress(address: string, port: number): string {
  const ip = address.split('.').reverse().map((b) => Number(b).toString(16).padStart(2, '0')).join('').toUpperCase();
  return `${ip}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

function listeningInode(address: string, port: number, protocol: 'tcp' | 'udp'): string | undefined {
  const wanted = new Set([hexAddress(address, port), hexAddress('0.0.0.0', port)]);
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (protocol === 'tcp' && f[3] !== '0A') continue; // LISTEN; a bound UDP socket has no such state
      const local = f[1] ?? '';
      // tcp6: `::` (any) or `::ffff:a.b.c.d` hold the IPv4 port too.
      const v4 = local.length > 13 ? (local.startsWith('0000000000000000FFFF0000') ? local.slice(24) : /^0{32}:/.test(local) ? `00000000${local.slice(32)}` : '') : local;
      if (wanted.has(v4)) return f[9];
    }
  }
  return undefined;
}

/** `pid 123 (node … serve --data-dir /x)`, or `an unknown process` when it can't be told. */
export function portHolder(address: string, port: number, protocol: 'tcp' | 'udp' = 'tcp'): string {
  const inode = listeningInode(address, port, protocol);
  if (!inode) return 'an unknown process';
  const target = `socket:[${inode}]`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== target) continue;
      } catch {
        continue;
      }
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch { /* gone meanwhile */ }
      return `pid ${pid}${cmd ? ` (${cmd.length > 160 ? `${cmd.slice(0, 160)}…` : cmd})` : ''}`;
    }
  }
  return 'a process of another user';
}
