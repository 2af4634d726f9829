// Option parsing shared by commands: durations like `30s`, ports, paths inside a repository.
import os from 'node:os';
import ms from 'ms';
import { InvalidArgumentError } from 'commander';
import { isQuantity, parseQuantity } from '../model/quantity.ts';
import { isDnsSubdomain, isLabelValue, isQualifiedName } from '../model/names.ts';
import { parseTaint, type Taint } from '../model/taints.ts';
import { parseRegistryMirror, type RegistryMirror } from '../node/runtime/podman/config.ts';

/** ms() as a number, NaN for what it cannot read (it throws on an empty text). */
const msOf = (value: string): number => { try { return ms(value as ms.StringValue); } catch { return NaN; } };

export function duration(value: string): number {
  const n = msOf(value);
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a duration such as 30s, 2m or 1h.`);
  return n;
}

/** A duration that may be none: `0` (or 0s, 0ms) turns what it paces off. */
export function durationOrZero(value: string): number {
  return msOf(value) === 0 ? 0 : duration(value);
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535).`);
  return n;
}

/** `--path` as a clean repo-relative folder: no leading/trailing slashes, no `..`. */
export function repoPath(value: string): string {
  const clean = value.replace(/\\/g, '/').replace(/^\.?\/+|\/+$/g, '');
  if (clean.split('/').includes('..')) throw new InvalidArgumentError(`"${value}" leaves the repository.`);
  return clean === '.' ? '' : clean;
}

/** A nice value that raises a priority or leaves it: -20 to 0. */
export function raisingNice(value: string): number {
  if (!/^-?\d+$/.test(value) || Number(value) < -20 || Number(value) > 0) throw new InvalidArgumentError(`"${value}" is not a nice value from -20 to 0.`);
  return Number(value);
}

/** cgroup v1 cpu.shares (2 to 262144), or 0 for none. */
export function cpuShares(value: string): number {
  if (!/^\d+$/.test(value) || (Number(value) !== 0 && (Number(value) < 2 || Number(value) > 262144))) throw new InvalidArgumentError(`"${value}" is not 0 or a cpu.shares value from 2 to 262144.`);
  return Number(value);
}

export function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  return Number(value);
}

/** A size such as 10Mi or 512Ki, in bytes (more than 0). */
export function bytes(value: string): number {
  const n = isQuantity(value) ? Math.floor(parseQuantity(value)) : NaN;
  if (!(n > 0)) throw new InvalidArgumentError(`"${value}" is not a size such as 10Mi or 512Ki.`);
  return n;
}

/** A Kubernetes quantity such as 2, 1500m or 4Gi, kept as written. */
export function quantity(value: string): string {
  if (!isQuantity(value) || value.startsWith('-')) throw new InvalidArgumentError(`"${value}" is not a quantity such as 2, 1500m or 4Gi.`);
  return value;
}

export function nodeName(value: string): string {
  if (!isDnsSubdomain(value)) throw new InvalidArgumentError(`"${value}" is not a valid node name (lower case letters, digits, '-' and '.').`);
  return value;
}

/** `disk=ssd,zone=a` as a label map. */
export function labels(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',').filter(Boolean)) {
    const [k, v = '', ...rest] = pair.split('=');
    if (rest.length || !isQualifiedName(k) || !isLabelValue(v)) throw new InvalidArgumentError(`"${pair}" is not a label such as disk=ssd.`);
    out[k] = v;
  }
  return out;
}

/** `dedicated=gpu:NoSchedule,spot:PreferNoSchedule` as taints, as kubelet's --register-with-taints. */
export function taints(value: string): Taint[] {
  try {
    return value.split(',').filter(Boolean).map(parseTaint);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message + '.');
  }
}

/** `<node>:<list>` repeated, collected per node name: `--label-node box-1:zone=a`. */
export function perNode<T>(parse: (v: string) => T) {
  return (value: string, previous: Record<string, T[]> = {}): Record<string, T[]> => {
    const at = value.indexOf(':');
    const name = value.slice(0, at);
    if (at < 1 || !isDnsSubdomain(name)) throw new InvalidArgumentError(`"${value}" does not start with a node name and a colon, such as box-1:…`);
    return { ...previous, [name]: [...(previous[name] ?? []), parse(value.slice(at + 1))] };
  };
}

/** An IPv4 CIDR from /8 to /24, such as 10.244.0.0/16: nodes take /24 pod CIDRs from it. */
export function cidr(value: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  const prefix = Number(m?.[5]);
  if (!m || m.slice(1, 5).some((p) => Number(p) > 255) || prefix < 8 || prefix > 24) {
    throw new InvalidArgumentError(`"${value}" is not an IPv4 CIDR from /8 to /24, such as 10.244.0.0/16.`);
  }
  return value;
}

/** --node-name's default: the host name, made a valid DNS subdomain. */
export const defaultNodeName = () => os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'node';

/** `--registry-mirror docker.io=http://127.0.0.1:5000`, repeatable: collected in order. */
export function registryMirror(value: string, previous: RegistryMirror[] = []): RegistryMirror[] {
  try {
    return [...previous, parseRegistryMirror(value)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message + '.');
  }
}
