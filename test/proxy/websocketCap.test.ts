import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { call } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

const { fake, gate } = withGateAndComfy({ gate: { mode: 'required' } });
let wsBase: string;
let port: number;
const opened: RecordingSocket[] = [];

async function newKey(name: string): Promise<string> {
  const res = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name },
  });
  return res.body.key;
}

function patchSettings(json: unknown) {
  return call(`${gate.url}/gate/api/settings`, { method: 'PATCH', headers: { 'x-api-key': gate.adminKey }, json });
}

async function openWs(headers: Record<string, string>, localAddress?: string): Promise<RecordingSocket> {
  const socket = await RecordingSocket.open(`${wsBase}/ws`, { headers, localAddress });
  opened.push(socket);
  return socket;
}

/** The gate's whole answer to an upgrade it refuses. */
function refusedUpgrade(headers: Record<string, string>, localAddress?: string): Promise<string> {
  let head = `GET /ws HTTP/1.1\r\nHost: ${gate.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
  head += 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return rawExchange(port, head + '\r\n', localAddress);
}

async function refusalsCounted(): Promise<number> {
  const text = (await call(`${gate.url}/gate/metrics`, { headers: { 'x-api-key': gate.adminKey } })).text;
  return Number(/^comfygate_limit_refusals_total\{code="websocket_limit"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

beforeAll(() => {
  wsBase = gate.url.replace('http', 'ws');
  port = Number(new URL(gate.url).port);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((socket) => socket.close()));
  await patchSettings({ mode: 'required', maxWebSocketsPerKey: 20 });
});

describe('open WebSockets per key', () => {
  it('caps them at 20 by default and is a setting an admin can change or turn off', async () => {
    const settings = await call<{ maxWebSocketsPerKey: number | null }>(`${gate.url}/gate/api/settings`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(settings.body.maxWebSocketsPerKey).toBe(20);
    expect((await patchSettings({ maxWebSocketsPerKey: 0 })).status).toBe(400);
    expect((await patchSettings({ maxWebSocketsPerKey: 2.5 })).status).toBe(400);
    expect((await patchSettings({ maxWebSocketsPerKey: null })).status).toBe(200);
    expect((await patchSettings({ maxWebSocketsPerKey: 3 })).status).toBe(200);
  });

  it('refuses an upgrade past the cap with 429, cheaply and counted, per key', async () => {
    await patchSettings({ maxWebSocketsPerKey: 2 });
    const key = await newKey('two tabs');
    const first = await openWs({ 'x-api-key': key });
    await openWs({ 'x-api-key': key });
    const upgradesBefore = fake.upgrades.length;
    const refusalsBefore = await refusalsCounted();

    const answer = await refusedUpgrade({ 'X-API-Key': key });
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer).toMatch(/\r\nretry-after: 5\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; message: string };
    };
    expect(body.error.code).toBe('websocket_limit');
    expect(body.error.message).toMatch(/limit 2/);
    // Refused before ComfyUI saw anything.
    expect(fake.upgrades.length).toBe(upgradesBefore);
    expect(await refusalsCounted()).toBe(refusalsBefore + 1);

    // Another key has sockets of its own.
    await openWs({ 'x-api-key': await newKey('someone else') });

    // A closed socket frees its place for the next try, as the ComfyUI frontend retries.
    await first.close();
    let reopened: RecordingSocket | undefined;
    await eventually(() => {
      void openWs({ 'x-api-key': key }).then(
        (socket) => (reopened ??= socket),
        () => undefined
      );
      return reopened !== undefined;
    }, 'a socket of the key opened again after one closed');
  });

  it('gives the place back when ComfyUI refuses the handshake', async () => {
    await patchSettings({ maxWebSocketsPerKey: 1 });
    const key = await newKey('refused');
    for (let i = 0; i < 3; i++) {
      await expect(RecordingSocket.open(`${wsBase}/not-a-socket`, { headers: { 'x-api-key': key } })).rejects.toThrow(
        'handshake answered 404'
      );
    }
    await openWs({ 'x-api-key': key });
  });

  it('counts anonymous callers per address in mode optional', async () => {
    await patchSettings({ mode: 'optional', maxWebSocketsPerKey: 1 });
    await openWs({}, '127.0.0.1');
    expect(await refusedUpgrade({}, '127.0.0.1')).toMatch(/^HTTP\/1\.1 429 /);
    await openWs({}, '127.0.0.2');
  });
});

describe('compression towards clients', () => {
  it('negotiates permessage-deflate without narrowing the windows and relays large messages unchanged', async () => {
    const ws = new WebSocket(`${wsBase}/ws`, { headers: { 'x-api-key': gate.adminKey } });
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer) => received.push(data));
    let negotiated = '';
    ws.once('upgrade', (res) => (negotiated = String(res.headers['sec-websocket-extensions'])));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // A window the gate demanded would refuse clients that cannot honour it, and it sends nothing compressed.
    expect(negotiated).toBe('permessage-deflate');

    const message = {
      type: 'large',
      data: { items: Array.from({ length: 2000 }, (_, i) => ({ node: String(i), text: 'Grüße 🎨 '.repeat(3) })) },
    };
    const large = (): unknown =>
      received.map((data) => JSON.parse(data.toString()) as { type: string }).find((m) => m.type === 'large');
    await eventually(() => received.length > 0, 'the status message arrived');
    fake.broadcastJson(message);
    await eventually(() => large() !== undefined, 'the large message arrived');
    expect(large()).toEqual(message);
    ws.close();
  });
});
