// The API's TLS certificate when it listens beyond loopback: a bearer token must not cross a network in clear, and
// kubectl sends one only over HTTPS. Self-signed, made once into the data folder (apiserver.crt, and apiserver.key
// mode 0600) as kube-apiserver does in its --cert-dir when given none; `convergit kubeconfig` pins it as the CA.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isIP } from 'node:net';
import { selfSigned } from '../model/self-signed.ts';
import { writeFileWholeSync } from '../store/durable-file.ts';

export interface ApiCertificate { cert: string; key: string; certFile: string }

export const certFileOf = (dataDir: string) => path.join(dataDir, 'apiserver.crt');
const keyFileOf = (dataDir: string) => path.join(dataDir, 'apiserver.key');

/** Every name a client may use for this machine: localhost, the host name, the listening address, each interface's. */
function altNames(host: string) {
  const ips = new Set(['127.0.0.1', '::1']);
  if (isIP(host) && host !== '0.0.0.0' && host !== '::') ips.add(host);
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) ips.add(a.address.replace(/%.*$/, ''));
  const dns = new Set(['localhost', os.hostname()]);
  if (!isIP(host)) dns.add(host);
  return [...[...dns].map((value) => ({ type: 2 as const, value })), ...[...ips].map((ip) => ({ type: 7 as const, ip }))];
}

export async function apiCertificate(dataDir: string, host: string): Promise<ApiCertificate> {
  const certFile = certFileOf(dataDir), keyFile = keyFileOf(dataDir);
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
  const { generate } = selfSigned();
  const pems = await generate([{ name: 'commonName', value: `convergit@${os.hostname()}` }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: altNames(host) },
    ],
  });
  // The key first, each whole or not at all: a certificate without its key is never left behind.
  writeFileWholeSync(keyFile, pems.private, 0o600);
  writeFileWholeSync(certFile, pems.cert, 0o644);
  return { cert: pems.cert, key: pems.private, certFile };
}
