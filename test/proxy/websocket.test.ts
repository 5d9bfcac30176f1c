import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { previewFrame, previewFrameWithMetadata, startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

let fake: FakeComfy;
let gate: TestGate;
let wsBase: string;

beforeAll(async () => {
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, wsPingIntervalMs: 100 });
  wsBase = gate.url.replace('http', 'ws');
});

afterAll(async () => {
  await gate.stop();
  await fake.close();
});

describe('WebSocket relay', () => {
  it.each(['/ws', '/api/ws'])('relays %s with the query intact', async (path) => {
    const socket = await RecordingSocket.open(`${wsBase}${path}?clientId=tab-${path.length}`);
    await eventually(() => socket.received.length > 0, 'first status message');
    expect(socket.json()[0]).toEqual({
      type: 'status',
      data: { status: { exec_info: { queue_remaining: expect.any(Number) as number } }, sid: `tab-${path.length}` },
    });
    expect(fake.upgrades.at(-1)!.rawUrl).toBe(`${path}?clientId=tab-${path.length}`);
    await socket.close();
  });

  it('delivers binary preview frames byte-identical, text frames unchanged', async () => {
    const socket = await RecordingSocket.open(`${wsBase}/ws?clientId=binary`);
    await eventually(() => socket.received.length === 1, 'status message');
    const jpeg = randomBytes(200_000);
    const frames = [
      previewFrame('jpeg', jpeg),
      previewFrameWithMetadata(
        {
          node_id: '3',
          prompt_id: 'p1',
          display_node_id: '3',
          parent_node_id: null,
          real_node_id: '3',
          image_type: 'image/png',
        },
        randomBytes(5_000)
      ),
    ];
    for (const frame of frames) fake.broadcastBinary(frame);
    const text = { type: 'progress', data: { value: 5, max: 20, prompt_id: 'p1', node: '3', note: 'ünïcødé ✓' } };
    fake.broadcastJson(text);
    await eventually(() => socket.received.length === 4, 'three relayed messages');
    expect(socket.received[1]).toMatchObject({ isBinary: true });
    expect(socket.received[1]!.data.equals(frames[0]!)).toBe(true);
    expect(socket.received[2]!.data.equals(frames[1]!)).toBe(true);
    expect(socket.received[3]!.isBinary).toBe(false);
    expect(JSON.parse(socket.received[3]!.data.toString())).toEqual(text);
    await socket.close();
  });

  it('runs a real prompt and delivers its whole message sequence to the tab that queued it', async () => {
    const socket = await RecordingSocket.open(`${wsBase}/ws?clientId=runner`);
    socket.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await eventually(
      () => socket.json().some((m) => (m as { type: string }).type === 'feature_flags'),
      'feature flags reply'
    );
    const res = await fetch(`${gate.url}/api/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'runner',
        prompt: SMALL_PROMPT,
      }),
    });
    const { prompt_id: promptId } = (await res.json()) as { prompt_id: string };
    await eventually(
      () =>
        socket
          .json()
          .some(
            (m) =>
              JSON.stringify(m) === JSON.stringify({ type: 'executing', data: { node: null, prompt_id: promptId } })
          ),
      'the done marker',
      5_000
    );
    const types = socket.json().map((m) => (m as { type: string }).type);
    expect(types).toContain('execution_start');
    expect(types).toContain('executed');
    expect(types.indexOf('execution_success')).toBeLessThan(types.lastIndexOf('executing'));
    const previews = socket.received.filter((m) => m.isBinary);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]!.data.readUInt32BE(0)).toBe(4);
    await socket.close();
  });

  it('negotiates permessage-deflate end to end when the client offers it', async () => {
    const socket = await RecordingSocket.open(`${wsBase}/ws?clientId=deflate`, { perMessageDeflate: true });
    expect(socket.ws.extensions).toContain('permessage-deflate');
    const big = { type: 'custom', data: { text: 'x'.repeat(50_000) } };
    fake.broadcastJson(big);
    await eventually(() => socket.received.length === 2, 'compressed message');
    expect(socket.json()[1]).toEqual(big);
    await socket.close();

    const plain = await RecordingSocket.open(`${wsBase}/ws?clientId=plain`, { perMessageDeflate: false });
    expect(plain.ws.extensions).toBe('');
    await plain.close();
  });

  it('passes ComfyUI closing a socket, with its code and reason, to the client', async () => {
    const socket = await RecordingSocket.open(`${wsBase}/ws?clientId=closer`);
    await eventually(() => socket.received.length === 1, 'status message');
    fake.closeAllSockets(4002, 'server says bye');
    await eventually(() => socket.closed !== undefined, 'close');
    expect(socket.closed).toEqual({ code: 4002, reason: 'server says bye' });
  });

  it('pings idle client sockets', async () => {
    const socket = await RecordingSocket.open(`${wsBase}/ws?clientId=idle`);
    let pings = 0;
    socket.ws.on('ping', () => pings++);
    await eventually(() => pings >= 2, 'two pings', 2_000);
    await socket.close();
  });

  it('relays a refusal by ComfyUI (unknown socket path) to the client', async () => {
    await expect(RecordingSocket.open(`${wsBase}/no-such-socket`)).rejects.toThrow('handshake answered 404');
  });

  it('opens and closes 500 sockets without leaking any, at the gate or at ComfyUI', async () => {
    for (let batch = 0; batch < 10; batch++) {
      const sockets = await Promise.all(
        Array.from({ length: 50 }, (_, i) => RecordingSocket.open(`${wsBase}/ws?clientId=leak-${batch}-${i}`))
      );
      await Promise.all(sockets.map((s, i) => (i % 2 === 0 ? s.close() : Promise.resolve(s.ws.terminate()))));
    }
    await eventually(
      () => gate.state.openSockets === 0,
      `gate open sockets back to 0 (is ${gate.state.openSockets})`,
      5_000
    );
    await eventually(() => fake.openSockets() === 0, `upstream sockets back to 0 (is ${fake.openSockets()})`, 5_000);
  });
});

describe('WebSocket close codes from the client', () => {
  it('forwards the client close code and reason upstream', async () => {
    // ComfyUI does not report close codes, so a bare `ws` upstream observes them here.
    const seen: Array<{ code: number; reason: string }> = [];
    const http = createServer();
    const upstream = new WebSocketServer({ server: http });
    upstream.on('connection', (ws) => ws.on('close', (code, reason) => seen.push({ code, reason: reason.toString() })));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const echoGate = await startTestGate({ upstream: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
    try {
      const socket = new WebSocket(`${echoGate.url.replace('http', 'ws')}/ws`);
      await new Promise((resolve) => socket.once('open', resolve));
      socket.close(4321, 'tab closed');
      await eventually(() => seen.length === 1, 'upstream close');
      expect(seen[0]).toEqual({ code: 4321, reason: 'tab closed' });
    } finally {
      await echoGate.stop();
      upstream.close();
      http.close();
    }
  });
});
