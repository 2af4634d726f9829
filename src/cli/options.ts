// Option parsing shared by commands: durations like `30s`, ports, paths inside a repository.
import ms from 'ms';
import { InvalidArgumentError } from 'commander';

export function duration(value: string): number {
  const n = ms(value as ms.StringValue);
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a duration such as 30s, 2m or 1h.`);
  return n;
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
