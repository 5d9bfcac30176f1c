// A client that negotiated permessage-deflate (every browser offers it) through the gate to a bare `ws` upstream
// the test drives frame by frame: what arrives on either side, and which frames the gate compressed on the wire.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type NetConnectOpts, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { previewFrame, previewFrameWithMetadata } from '../fixtures/fakeComfy/index.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket, type Received } from '../helpers/wsClient.js';

/** The gate's limit on one client message, inflated. */
const MAX_FROM_CLIENT = 16 << 20;

let http: Server;
let upstreamServer: WebSocketServer;
/** The upstream side of each relayed socket, newest last, with what it received. */
const upstreams: Array<{ ws: WebSocket; received: Received[] }> = [];
let gate: TestGate;
let wsUrl: string;

beforeAll(async () => {
  http = createServer();
  upstreamServer = new WebSocketServer({ server: http });
  upstreamServer.on('connection', (ws) => {
    const entry = { ws, received: [] as Received[] };
    ws.on('message', (data: RawData, isBinary) => entry.received.push({ data: asBuffer(data), isBinary }));
    upstreams.push(entry);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  gate = await startTestGate({ upstream: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
  wsUrl = `${gate.url.replace('http', 'ws')}/ws`;
});

afterAll(async () => {
  await gate.stop();
  upstreamServer.close();
  http.close();
});

function asBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** One frame as the gate put it on the wire towards the client. */
interface WireFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
}

/**
 * Reads the frame headers the gate sends on a client's TCP socket, next to the `ws` client that decodes them:
 * the HTTP 101 answer first, then frames (server frames are never masked).
 */
class FrameTap {
  readonly frames: WireFrame[] = [];
  #pending = Buffer.alloc(0);
  #upgraded = false;

  attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
  }

  #read(chunk: Buffer): void {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    if (!this.#upgraded) {
      const end = this.#pending.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.#upgraded = true;
      this.#pending = this.#pending.subarray(end + 4);
    }
    for (;;) {
      if (this.#pending.length < 2) return;
      const first = this.#pending[0]!;
      let length = this.#pending[1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (this.#pending.length < 4) return;
        length = this.#pending.readUInt16BE(2);
        header = 4;
      } else if (length === 127) {
        if (this.#pending.length < 10) return;
        length = Number(this.#pending.readBigUInt64BE(2));
        header = 10;
      }
      if (this.#pending.length < header + length) return;
      this.frames.push({ fin: (first & 0x80) !== 0, rsv1: (first & 0x40) !== 0, opcode: first & 0x0f });
      this.#pending = this.#pending.subarray(header + length);
    }
  }
}

/** A deflate-offering client (as a browser is) paired with the upstream socket the gate opened for it. */
async function openPair(): Promise<{
  client: RecordingSocket;
  upstream: (typeof upstreams)[number];
  tap: FrameTap;
}> {
  const before = upstreams.length;
  const tap = new FrameTap();
  // `ws` only ever calls it with the options form of net.connect.
  const tapped = ((options: NetConnectOpts) => {
    const socket = connect(options);
    tap.attach(socket);
    return socket;
  }) as typeof connect;
  const client = await RecordingSocket.open(wsUrl, { perMessageDeflate: true, createConnection: tapped });
  expect(client.ws.extensions).toContain('permessage-deflate');
  await eventually(() => upstreams.length > before, 'the upstream socket');
  return { client, upstream: upstreams.at(-1)!, tap };
}

function sendFragments(ws: WebSocket, parts: Buffer[], binary: boolean): void {
  parts.forEach((part, i) => ws.send(part, { binary, fin: i === parts.length - 1 }));
}

const preview = previewFrameWithMetadata(
  {
    node_id: '3',
    prompt_id: 'p1',
    display_node_id: '3',
    parent_node_id: null,
    real_node_id: '3',
    image_type: 'image/png',
  },
  randomBytes(50_000)
);

describe('WebSocket relay to a client that negotiated permessage-deflate', () => {
  it('delivers every message from ComfyUI identical: text, previews, large and fragmented', async () => {
    const { client, upstream } = await openPair();
    const progress = Buffer.from('{"type": "progress", "data": {"value": 1, "max": 20, "note": "ünïcødé ✓"}}');
    const large = Buffer.from(JSON.stringify({ type: 'executed', data: { text: 'abc'.repeat(200_000) } }));
    const random = Buffer.from(randomBytes(300_000).toString('base64'));
    const fragments = [Buffer.from('{"type": "executing", '), Buffer.from('"data": {"node": "3"'), Buffer.from('}}')];
    const binaryFragments = [preview.subarray(0, 10), preview.subarray(10, 30_000), preview.subarray(30_000)];
    const legacyPreview = previewFrame('jpeg', randomBytes(200_000));

    upstream.ws.send(progress, { binary: false });
    upstream.ws.send(large, { binary: false });
    upstream.ws.send(random, { binary: false });
    upstream.ws.send(legacyPreview, { binary: true });
    sendFragments(upstream.ws, fragments, false);
    sendFragments(upstream.ws, binaryFragments, true);

    await eventually(() => client.received.length === 6, 'six messages', 5_000);
    expect(client.received.map((m) => m.isBinary)).toEqual([false, false, false, true, false, true]);
    const expected = [progress, large, random, legacyPreview, Buffer.concat(fragments), preview];
    client.received.forEach((m, i) => expect(m.data.equals(expected[i]!)).toBe(true));
    await client.close();
  });

  it('delivers every message from the client to ComfyUI identical, fragmented ones too', async () => {
    const { client, upstream } = await openPair();
    const flags = Buffer.from(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    const large = Buffer.from(JSON.stringify({ type: 'custom', data: { text: 'xyz'.repeat(100_000) } }));
    const binary = randomBytes(100_000);
    const fragments = [Buffer.from('{"type": "custom", '), Buffer.from('"data": {}}')];

    client.ws.send(flags, { binary: false });
    client.ws.send(large, { binary: false });
    client.ws.send(binary, { binary: true });
    sendFragments(client.ws, fragments, false);

    await eventually(() => upstream.received.length === 4, 'four messages upstream', 5_000);
    expect(upstream.received.map((m) => m.isBinary)).toEqual([false, false, true, false]);
    const expected = [flags, large, binary, Buffer.concat(fragments)];
    upstream.received.forEach((m, i) => expect(m.data.equals(expected[i]!)).toBe(true));
    await client.close();
  });

  it('sends every frame to it as ComfyUI sent it, uncompressed: progress, status, a large `executed`, a preview', async () => {
    const { client, upstream, tap } = await openPair();
    upstream.ws.send('{"type": "progress", "data": {"value": 1, "max": 20}}', { binary: false });
    upstream.ws.send(JSON.stringify({ type: 'status', data: { pad: 'x'.repeat(1_000) } }), { binary: false });
    upstream.ws.send(JSON.stringify({ type: 'executed', data: { text: 'y'.repeat(64 << 10) } }), { binary: false });
    upstream.ws.send(previewFrame('png', randomBytes(64 << 10)), { binary: true });

    await eventually(() => client.received.length === 4, 'four messages', 5_000);
    const data = tap.frames.filter((f) => f.opcode === 1 || f.opcode === 2);
    expect(data.map(({ rsv1, opcode }) => ({ rsv1, opcode }))).toEqual([
      { rsv1: false, opcode: 1 },
      { rsv1: false, opcode: 1 },
      { rsv1: false, opcode: 1 },
      { rsv1: false, opcode: 2 },
    ]);
    await client.close();
  });

  it('refuses a compressed client message that inflates past the limit (a zip bomb) and keeps relaying others', async () => {
    const { client, upstream } = await openPair();
    // About 20 KB on the wire, 20 MiB inflated.
    client.ws.send('0'.repeat(MAX_FROM_CLIENT + (4 << 20)), { binary: false });
    await eventually(() => client.closed !== undefined, 'the client socket closed', 5_000);
    expect(client.closed?.code).toBe(1009);
    await eventually(() => upstream.ws.readyState === WebSocket.CLOSED, 'the upstream socket closed', 5_000);
    expect(upstream.received).toEqual([]);

    const next = await openPair();
    next.upstream.ws.send('{"type": "status", "data": {}}', { binary: false });
    await eventually(() => next.client.received.length === 1, 'a message on a new socket');
    await next.client.close();
  });
});
