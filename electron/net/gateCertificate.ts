import { X509Certificate } from 'node:crypto';

/**
 * Whether the app's own windows may accept a certificate Chromium does not know: only the gate's own
 * (same SHA-256 fingerprint as the one the gate serves) and only on the gate's own origin.
 */
export function isGateCertificate(
  url: string,
  certificatePem: string,
  gateUrl: string,
  fingerprint256: string
): boolean {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return false;
  }
  if (origin !== new URL(gateUrl).origin) return false;
  try {
    return new X509Certificate(certificatePem).fingerprint256 === fingerprint256;
  } catch {
    return false;
  }
}
