import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Interfaces } from '../../server/net/shareAddress.js';
import { certificateNames } from '../../server/tls/certificateNames.js';
import {
  RENEW_BEFORE_DAYS,
  TlsSetupError,
  ensureSelfSignedCertificate,
  loadOperatorCertificate,
} from '../../server/tls/gateCertificate.js';
import { VALIDITY_DAYS } from '../../server/tls/selfSignedCertificate.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'comfygate-tls-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const DAY_MS = 24 * 3600_000;
const LAN: Interfaces = {
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: '127.0.0.1/8',
    },
  ],
  eth0: [
    {
      address: '192.168.1.20',
      netmask: '255.255.255.0',
      family: 'IPv4',
      mac: 'aa:bb:cc:dd:ee:ff',
      internal: false,
      cidr: '192.168.1.20/24',
    },
  ],
  tailscale0: [
    {
      address: '100.101.102.103',
      netmask: '255.255.255.255',
      family: 'IPv4',
      mac: 'aa:bb:cc:dd:ee:00',
      internal: false,
      cidr: '100.101.102.103/32',
    },
  ],
};

describe('the names a gate certificate covers', () => {
  it('covers localhost, loopback, the host name and its .local name, and every LAN and VPN address', () => {
    expect(certificateNames(LAN, 'GPU-Box.local')).toEqual({
      dns: ['localhost', 'gpu-box', 'gpu-box.local'],
      ips: ['127.0.0.1', '::1', '192.168.1.20', '100.101.102.103'],
    });
  });
});

describe('the self-signed certificate in the data dir', () => {
  it('is made with those names, kept 0600, and its fingerprint is the certificate\u2019s SHA-256', async () => {
    const dataDir = await freshDir();
    const names = certificateNames(LAN, 'gpu-box');
    const tls = await ensureSelfSignedCertificate(dataDir, names);

    const x509 = new X509Certificate(tls.cert);
    expect(x509.subjectAltName?.split(', ')).toEqual([
      'DNS:localhost',
      'DNS:gpu-box',
      'DNS:gpu-box.local',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:192.168.1.20',
      'IP Address:100.101.102.103',
    ]);
    expect(x509.checkIP('192.168.1.20')).toBe('192.168.1.20');
    expect(x509.checkHost('gpu-box.local')).toBe('gpu-box.local');
    const sha256 = createHash('sha256').update(x509.raw).digest('hex').toUpperCase().match(/../g)?.join(':');
    expect(tls.fingerprint256).toBe(sha256);
    expect(x509.fingerprint256).toBe(sha256);
    expect(Date.parse(x509.validTo) - Date.now()).toBeGreaterThan((VALIDITY_DAYS - 2) * DAY_MS);
    for (const file of ['tls/cert.pem', 'tls/key.pem']) {
      expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(join(dataDir, 'tls'))).mode & 0o777).toBe(0o700);
  });

  it('is kept while valid and covering, and renewed when it nears its end or the names change', async () => {
    const dataDir = await freshDir();
    const names = certificateNames(LAN, 'gpu-box');
    const first = await ensureSelfSignedCertificate(dataDir, names);
    const again = await ensureSelfSignedCertificate(dataDir, names);
    expect(again).toMatchObject({ renewed: false, fingerprint256: first.fingerprint256 });

    // The same certificate seen from a day when fewer than RENEW_BEFORE_DAYS remain.
    const nearTheEnd = Date.parse(first.validTo) - (RENEW_BEFORE_DAYS - 1) * DAY_MS;
    const renewed = await ensureSelfSignedCertificate(dataDir, names, nearTheEnd);
    expect(renewed.renewed).toBe(true);
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);

    const moved = certificateNames(
      { ...LAN, eth0: [{ ...LAN['eth0']![0]!, address: '10.0.0.7', cidr: '10.0.0.7/24' }] },
      'gpu-box'
    );
    const forNewAddress = await ensureSelfSignedCertificate(dataDir, moved, nearTheEnd);
    expect(forNewAddress.renewed).toBe(true);
    expect(new X509Certificate(forNewAddress.cert).checkIP('10.0.0.7')).toBe('10.0.0.7');
  });
});

describe("the operator's own certificate", () => {
  it('is used as given when the key belongs to it', async () => {
    const made = await ensureSelfSignedCertificate(await freshDir(), certificateNames({}, 'box'));
    const dir = await freshDir();
    await writeFile(join(dir, 'cert.pem'), made.cert);
    await writeFile(join(dir, 'key.pem'), made.key);
    const tls = await loadOperatorCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'));
    expect(tls).toMatchObject({ selfSigned: false, fingerprint256: made.fingerprint256 });
  });

  it('is refused with a clear message when unreadable, not PEM, or the key belongs to another certificate', async () => {
    const one = await ensureSelfSignedCertificate(await freshDir(), certificateNames({}, 'one'));
    const other = await ensureSelfSignedCertificate(await freshDir(), certificateNames({}, 'other'));
    const dir = await freshDir();
    await writeFile(join(dir, 'cert.pem'), one.cert);
    await writeFile(join(dir, 'other-key.pem'), other.key);
    await writeFile(join(dir, 'junk.pem'), 'not a certificate');

    await expect(loadOperatorCertificate(join(dir, 'missing.pem'), join(dir, 'other-key.pem'))).rejects.toThrow(
      /cannot read the TLS certificate .*missing\.pem: ENOENT/
    );
    await expect(loadOperatorCertificate(join(dir, 'junk.pem'), join(dir, 'other-key.pem'))).rejects.toThrow(
      /junk\.pem is not a PEM certificate/
    );
    const mismatch = loadOperatorCertificate(join(dir, 'cert.pem'), join(dir, 'other-key.pem'));
    await expect(mismatch).rejects.toBeInstanceOf(TlsSetupError);
    await expect(mismatch).rejects.toThrow(/the key in .*other-key\.pem does not belong to the certificate/);
  });
});
