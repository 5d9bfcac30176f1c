import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../server/errors.js';
import type { RequestLogLine } from '../../server/logs/requestLogLine.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

let fake: FakeComfy;
let gate: TestGate;

function admin<T = unknown>(method: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });
}

/** The request log's line with this id: the log writes in batches, so it is asked until the line is there. */
async function logLineWith(requestId: string): Promise<RequestLogLine> {
  for (;;) {
    const logs = await admin<{ items: RequestLogLine[] }>('GET', '/gate/api/logs?limit=200');
    const line = logs.body.items.find((item) => item.requestId === requestId);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
});

describe('error bodies', () => {
  it('a refused ComfyUI request carries the request id its request-log line shows', async () => {
    const refused = await call<ErrorBody>(`${gate.url}/api/prompt`);
    expect(refused.status).toBe(401);
    const requestId = refused.body.error.requestId!;
    expect(requestId).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);

    const line = await logLineWith(requestId);
    expect(line).toMatchObject({ kind: 'http', status: 401, refusal: 'unauthorized', path: '/prompt' });

    const again = await call<ErrorBody>(`${gate.url}/api/prompt`);
    expect(again.body.error.requestId).not.toBe(requestId);
  });

  it('a refused WebSocket upgrade carries the request id its request-log line shows', async () => {
    const port = Number(new URL(gate.url).port);
    const answer = await rawExchange(
      port,
      'GET /ws?clientId=x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as ErrorBody;
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.requestId).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);

    const line = await logLineWith(body.error.requestId!);
    expect(line).toMatchObject({ kind: 'ws', status: 401, refusal: 'unauthorized' });
  });

  it('an admin API error carries a request id too, a fresh one each time', async () => {
    const first = await admin<ErrorBody>('GET', '/gate/api/no-such-thing');
    const second = await admin<ErrorBody>('GET', '/gate/api/no-such-thing');
    expect(first.status).toBe(404);
    expect(first.body.error).toMatchObject({
      code: 'not_found',
      requestId: expect.stringMatching(/^[0-9a-z]+-[0-9a-z]+$/) as unknown,
    });
    expect(second.body.error.requestId).not.toBe(first.body.error.requestId);
  });

  it('a 400 lists every problem by field path in `fields`, beside the message that names the first ones', async () => {
    const bad = await admin<ErrorBody>('POST', '/gate/api/keys', {
      name: 'Ann',
      limits: { perMinute: 0, perHour: -1, promptsPerDay: 1.5, maxQueued: 'many' },
      bogus: true,
    });
    expect(bad.status).toBe(400);
    const { code, message, fields } = bad.body.error;
    expect(code).toBe('bad_request');
    expect(message).toMatch(/^Invalid request: limits\.perMinute: /);
    expect(Object.keys(fields!).sort()).toEqual(
      ['bogus', 'limits.maxQueued', 'limits.perHour', 'limits.perMinute', 'limits.promptsPerDay'].sort()
    );
    expect(fields!['bogus']).toBe('unknown field');
    expect(message).toContain(`limits.perMinute: ${fields!['limits.perMinute']}`);
  });

  it('an error with no field problems sends no `fields`', async () => {
    const missing = await admin<ErrorBody>('GET', '/gate/api/no-such-thing');
    expect(missing.body.error.fields).toBeUndefined();
  });
});
