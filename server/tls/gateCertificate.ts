import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname, networkInterfaces } from 'node:os';
import type { GateConfig } from '../config/schema.js';
import { certificateNames, type CertificateNames } from './certificateNames.js';
import { makeSelfSignedCertificate } from './selfSignedCertificate.js';
import type { TlsSummary } from './tlsSummary.js';

/** What the gate serves HTTPS with. */
export interface GateTls extends TlsSummary {
  cert: string;
  key: string;
}

/** A made certificate is renewed at start when fewer days than this remain. */
export const RENEW_BEFORE_DAYS = 30;
export const TLS_DIR = 'tls';

export class TlsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsSetupError';
  }
}

const DAY_MS = 24 * 3600_000;

/**
 * The gate's own certificate from `tls/cert.pem` and `tls/key.pem` (0600) in the data dir: made on first use,
 * made again at start when it expires within RENEW_BEFORE_DAYS or no longer covers `names` (a new LAN address,
 * a renamed machine) or the files are unusable.
 */
export async function ensureSelfSignedCertificate(
  dataDir: string,
  names: CertificateNames,
  now = Date.now()
): Promise<GateTls & { renewed: boolean }> {
  const dir = join(dataDir, TLS_DIR);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const existing = await readPair(certFile, keyFile).catch(() => undefined);
  if (existing !== undefined) {
    const x509 = new X509Certificate(existing.cert);
    if (
      Date.parse(x509.validTo) - now > RENEW_BEFORE_DAYS * DAY_MS &&
      covers(x509, names) &&
      matches(x509, existing.key)
    ) {
      return { ...existing, ...facts(x509), selfSigned: true, renewed: false };
    }
  }
  const made = await makeSelfSignedCertificate(names, now);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Key first: a reader that finds the new certificate also finds its key.
  await writePrivate(keyFile, made.key);
  await writePrivate(certFile, made.cert);
  return { ...made, ...facts(new X509Certificate(made.cert)), selfSigned: true, renewed: true };
}

/** The operator's own certificate and key (an ACME client's, Tailscale's): read, checked to belong together. */
export async function loadOperatorCertificate(certFile: string, keyFile: string): Promise<GateTls> {
  const pair = await readPair(certFile, keyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pair.cert);
  } catch {
    throw new TlsSetupError(`${certFile} is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)`);
  }
  try {
    createPrivateKey(pair.key);
  } catch {
    throw new TlsSetupError(`${keyFile} is not a PEM private key (expected -----BEGIN … PRIVATE KEY-----)`);
  }
  if (!matches(x509, pair.key)) {
    throw new TlsSetupError(`the key in ${keyFile} does not belong to the certificate in ${certFile}`);
  }
  return { ...pair, ...facts(x509), selfSigned: false };
}

/**
 * What the gate serves HTTPS with under `config`, or undefined for plain HTTP: the operator's own pair
 * when given, else (with `https`) the gate's self-signed one for this machine's names as they are now.
 */
export async function tlsForConfig(
  config: Pick<GateConfig, 'https' | 'tlsCert' | 'tlsKey' | 'dataDir'>
): Promise<(GateTls & { renewed?: boolean }) | undefined> {
  const { tlsCert, tlsKey } = config;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new TlsSetupError(
      '--tls-cert and --tls-key go together: give both files, or use --https for a self-signed one'
    );
  }
  if (tlsCert !== undefined && tlsKey !== undefined) return loadOperatorCertificate(tlsCert, tlsKey);
  if (!config.https) return undefined;
  return ensureSelfSignedCertificate(config.dataDir, certificateNames(networkInterfaces(), hostname()));
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const read = (file: string, what: string) =>
    readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new TlsSetupError(`cannot read the TLS ${what} ${file}: ${error.code ?? error.message}`);
    });
  const [cert, key] = await Promise.all([read(certFile, 'certificate'), read(keyFile, 'key')]);
  return { cert, key };
}

function facts(x509: X509Certificate): { fingerprint256: string; validTo: string } {
  return { fingerprint256: x509.fingerprint256, validTo: new Date(x509.validTo).toISOString() };
}

function covers(x509: X509Certificate, names: CertificateNames): boolean {
  return (
    names.dns.every((name) => x509.checkHost(name, { wildcards: false }) !== undefined) &&
    names.ips.every((ip) => x509.checkIP(ip) !== undefined)
  );
}

function matches(x509: X509Certificate, key: string): boolean {
  try {
    return x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

async function writePrivate(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
}
