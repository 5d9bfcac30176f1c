import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGateCertificate } from '../../electron/net/gateCertificate.js';
import { ensureSelfSignedCertificate, type GateTls } from '../../server/tls/gateCertificate.js';

const GATE = 'https://127.0.0.1:8189';
let dir: string;
let own: GateTls;
let other: GateTls;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comfygate-electron-tls-'));
  own = await ensureSelfSignedCertificate(join(dir, 'own'), { dns: ['localhost'], ips: ['127.0.0.1'] });
  other = await ensureSelfSignedCertificate(join(dir, 'other'), { dns: ['localhost'], ips: ['127.0.0.1'] });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the desktop windows trust the gate's own certificate only", () => {
  it('accepts the certificate the gate serves, on the gate origin', () => {
    expect(isGateCertificate(`${GATE}/gate/`, own.cert, GATE, own.fingerprint256)).toBe(true);
  });

  it('refuses another certificate, another origin, or something unparsable', () => {
    expect(isGateCertificate(`${GATE}/gate/`, other.cert, GATE, own.fingerprint256)).toBe(false);
    expect(isGateCertificate('https://example.com/', own.cert, GATE, own.fingerprint256)).toBe(false);
    expect(isGateCertificate('https://127.0.0.1:9999/', own.cert, GATE, own.fingerprint256)).toBe(false);
    expect(isGateCertificate('not a url', own.cert, GATE, own.fingerprint256)).toBe(false);
    expect(isGateCertificate(`${GATE}/`, 'junk', GATE, own.fingerprint256)).toBe(false);
  });
});
