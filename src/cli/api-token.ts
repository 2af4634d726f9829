// The API's bearer token: $CONVERGIT_API_TOKEN, else the file --token-file names, else `<dataDir>/token`, generated
// once (32 random bytes, mode 0600) and kept, so kubeconfigs written earlier go on working after a restart.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const TOKEN_ENV = 'CONVERGIT_API_TOKEN';
export const tokenFileOf = (dataDir: string) => path.join(dataDir, 'token');

/** A token as a client sends it: one line of visible ASCII, no spaces (RFC 6750's b64token, roughly). */
function check(token: string, from: string): string {
  if (!/^[\x21-\x7e]{16,}$/.test(token)) throw new Error(`${from}: a bearer token must be at least 16 visible ASCII characters without spaces`);
  return token;
}

/** The token serve uses, and where it came from (for serve.json: `convergit kubeconfig` reads it there too). */
export function loadApiToken(dataDir: string, tokenFile: string | undefined, env = process.env): { token: string; file?: string } {
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { token: check(fromEnv.trim(), `$${TOKEN_ENV}`) };
  if (tokenFile) {
    const file = path.resolve(tokenFile);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`--token-file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    return { token: check(text.trim(), `--token-file ${file}`), file };
  }
  const file = tokenFileOf(dataDir);
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (statSync(file).mode & 0o077) chmodSync(file, 0o600); // a copied folder may have widened it
  }
  return { token: check(readFileSync(file, 'utf8').trim(), file), file };
}

/** The token a client of a data folder's serve sends: $CONVERGIT_API_TOKEN, else the file serve named, else none. */
export function readApiToken(dataDir: string, file = tokenFileOf(dataDir), env = process.env): string | undefined {
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv) return fromEnv.trim();
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
