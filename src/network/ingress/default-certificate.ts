// The certificate the TLS listener answers with when no Ingress' Secret serves the name asked for (or the Secret
// is missing or invalid): self-signed, made once per serve, as ingress-nginx's "Kubernetes Ingress Controller
// Fake Certificate". Made when the TLS port is first used, not at start: loading the X.509 library and making a
// key pair costs more than a serve's whole start-up otherwise.

import { selfSigned } from '../../model/self-signed.ts';

export interface Certificate { cert: string; key: string }

export const DEFAULT_CERTIFICATE_CN = 'convergit ingress default certificate';

export async function defaultCertificate(): Promise<Certificate> {
  const { generate } = selfSigned();
  const pems = await generate([{ name: 'commonName', value: DEFAULT_CERTIFICATE_CN }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'ingress.local' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}
