// resolv.conf(5), read and written: the host's tells cluster DNS where to forward and pods what the node's search
// path is; a pod's is computed from it by the node (node/pod-dns.ts).
import { readFileSync } from 'node:fs';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** The `nameserver`, `search` (or `domain`) and `options` lines; comments and unknown lines are skipped. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const [key, ...values] = raw.replace(/[#;].*/, '').trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) out.nameservers.push(values[0]);
    // The last search or domain line wins, as in glibc.
    else if (key === 'search' || key === 'domain') out.searches = values.filter(Boolean);
    else if (key === 'options') out.options.push(...values.filter(Boolean));
  }
  return out;
}

/** The host's resolver configuration; empty when the file is missing. */
export function readResolvConf(file = '/etc/resolv.conf'): ResolvConf {
  try {
    return parseResolvConf(readFileSync(file, 'utf8'));
  } catch {
    return { nameservers: [], searches: [], options: [] };
  }
}

/** The file's text: nameserver lines, then one search and one options line when there are any. */
export function formatResolvConf(c: ResolvConf): string {
  return [
    ...c.nameservers.map((n) => `nameserver ${n}`),
    ...(c.searches.length ? [`search ${c.searches.join(' ')}`] : []),
    ...(c.options.length ? [`options ${c.options.join(' ')}`] : []),
    '',
  ].join('\n');
}
