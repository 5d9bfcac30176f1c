import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/loadConfig.js';
import { startGate } from '../../server/gate.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { startTestGate } from '../helpers/testGate.js';

let fake: FakeComfy;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeComfy();
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-https-setting-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the HTTPS switch in Settings', () => {
  it('is saved now, reported as needing a restart, and the next start serves HTTPS', async () => {
    const plain = await startTestGate({ upstream: fake.url, mode: 'required', dataDir });
    try {
      const saved = await call<{ saved: { https?: boolean }; running: { https: boolean }; restartNeeded: boolean }>(
        `${plain.url}/gate/api/settings/startup`,
        { method: 'PATCH', headers: { 'x-api-key': plain.adminKey }, json: { https: true } }
      );
      expect(saved.status).toBe(200);
      expect(saved.body).toMatchObject({ saved: { https: true }, running: { https: false }, restartNeeded: true });
      expect(plain.state.tls).toBeNull();
    } finally {
      await plain.stop();
    }

    const config = await loadConfig({ flags: { dataDir, port: 0, upstream: fake.url, logLevel: 'silent' }, env: {} });
    expect(config.https).toBe(true);
    const next = await startGate({ config });
    try {
      expect(next.url).toMatch(/^https:/);
      expect(next.state.tls?.selfSigned).toBe(true);
      expect(next.state.share.url).toMatch(/^https:/);
    } finally {
      await next.stop();
    }
  });
});
