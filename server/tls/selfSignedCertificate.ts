import { webcrypto } from 'node:crypto';
import type { CertificateNames } from './certificateNames.js';
import { installReflectMetadata } from './reflectMetadata.js';

export interface CertificatePair {
  cert: string;
  key: string;
}

/** How long a made certificate is valid; it is renewed at start when fewer than RENEW_BEFORE_DAYS remain. */
export const VALIDITY_DAYS = 365;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600_000;

/**
 * A self-signed ECDSA P-256 certificate for a server, with `names` as its subjectAltNames. Made with
 * @peculiar/x509 over Node's own WebCrypto: no OpenSSL binary, no native code.
 */
export async function makeSelfSignedCertificate(names: CertificateNames, now = Date.now()): Promise<CertificatePair> {
  installReflectMetadata();
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: 'CN=ComfyGate (self-signed), O=ComfyGate',
    // A little in the past: a teammate's clock that runs slow must not see a certificate from the future.
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: certificate.toString('pem') + '\n', key: pem('PRIVATE KEY', pkcs8) };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
