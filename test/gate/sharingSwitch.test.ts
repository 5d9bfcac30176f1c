import { readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { call } from '../helpers/http.js';
import { eventually, startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';
import { readRuntimeRecord } from '../../server/runtime/runtimeRecord.js';

// 127.0.0.2 stands in for "my network": tests bind loopback addresses only.
const NETWORK_STAND_IN = '127.0.0.2';

let fake: FakeComfy;
const gates: TestGate[] = [];

beforeAll(async () => {
  fake = await startFakeComfy();
});

afterEach(async () => {
  await Promise.all(gates.splice(0).map((gate) => gate.stop()));
});

afterAll(async () => {
  await fake.close();
});

async function gateWith(options: { mode: 'off' | 'required'; networkHost?: string }): Promise<TestGate> {
  const gate = await startTestGate({ upstream: fake.url, ...options });
  gates.push(gate);
  return gate;
}

/** A keep-alive connection that sends one request at a time and reads one whole answer. */
class KeepAliveConnection {
  private buffered = '';
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.buffered += chunk));
  }

  static open(host: string, port: number): Promise<KeepAliveConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new KeepAliveConnection(socket)));
      socket.once('error', reject);
    });
  }

  async get(path: string, host: string, key: string): Promise<{ status: number; body: string }> {
    this.buffered = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nX-API-Key: ${key}\r\nConnection: keep-alive\r\n\r\n`);
    await eventually(() => complete(this.buffered), 'a whole answer on the kept connection', 5_000);
    const [head = '', body = ''] = this.buffered.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), body };
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  close(): void {
    this.socket.destroy();
  }
}

function complete(answer: string): boolean {
  const end = answer.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /content-length: (\d+)/i.exec(answer.slice(0, end));
  return length !== null && answer.length - end - 4 >= Number(length[1]);
}

function refusesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('the live sharing switch', () => {
  it('moves the listener without dropping a WebSocket or a keep-alive connection opened before', async () => {
    const gate = await gateWith({ mode: 'required', networkHost: NETWORK_STAND_IN });
    const port = gate.state.listen.port;
    const oldHost = `127.0.0.1:${port}`;
    const ws = await RecordingSocket.open(`ws://${oldHost}/ws?clientId=kept`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    const kept = await KeepAliveConnection.open('127.0.0.1', port);
    expect((await kept.get('/api/system_stats', oldHost, gate.adminKey)).status).toBe(200);
    const changes: boolean[] = [];
    gate.events.on('sharing', (network) => changes.push(network));
    expect(gate.state.network).toBe(false);

    const report = await gate.setSharing(true);

    expect(report).toMatchObject({ network: true, listen: { host: NETWORK_STAND_IN, port } });
    expect(gate.state).toMatchObject({ network: true, listen: { host: NETWORK_STAND_IN, port } });
    expect(changes).toEqual([true]);
    // Both connections opened before the move carry on.
    const again = await kept.get('/api/system_stats', oldHost, gate.adminKey);
    expect(again.status).toBe(200);
    expect(kept.closed).toBe(false);
    fake.broadcastJson({ type: 'after_the_move', data: {} });
    await eventually(
      () => ws.json().some((m) => (m as { type?: string }).type === 'after_the_move'),
      'a frame relayed after the move'
    );
    expect(ws.closed).toBeUndefined();
    // New connections go to the new address only.
    const fresh = await call(`http://${NETWORK_STAND_IN}:${port}/api/system_stats`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(fresh.status).toBe(200);
    expect(await refusesConnections('127.0.0.1', port)).toBe(true);
    kept.close();
    await ws.close();
  });

  it('updates the share link, the runtime record and the saved start-up address, and moves back', async () => {
    const gate = await gateWith({ mode: 'required', networkHost: NETWORK_STAND_IN });
    const port = gate.state.listen.port;
    expect(gate.state.share.url).toBe(`http://127.0.0.1:${port}/`);
    let changes = 0;
    gate.events.on('change', () => changes++);

    await gate.setSharing(true);
    expect(gate.state.share.url).toBe(`http://${NETWORK_STAND_IN}:${port}/`);
    expect(await readRuntimeRecord(gate.dataDir)).toMatchObject({
      url: `http://${NETWORK_STAND_IN}:${port}`,
      shareUrl: `http://${NETWORK_STAND_IN}:${port}/`,
    });
    const saved = JSON.parse(await readFile(join(gate.dataDir, 'settings.json'), 'utf8')) as { host?: string };
    expect(saved.host).toBe(NETWORK_STAND_IN);
    expect(changes).toBeGreaterThan(0);

    await gate.setSharing(false);
    expect(gate.state).toMatchObject({ network: false, listen: { host: '127.0.0.1', port } });
    expect((await call(`http://127.0.0.1:${port}/gate/healthz`)).status).toBe(200);
    expect((await readRuntimeRecord(gate.dataDir))?.url).toBe(`http://127.0.0.1:${port}`);
  });

  it('switches through the admin API and records it in the audit log', async () => {
    const gate = await gateWith({ mode: 'required', networkHost: NETWORK_STAND_IN });
    const port = gate.state.listen.port;
    const headers = { 'x-api-key': gate.adminKey };
    const before = await call<{ network: boolean }>(`http://127.0.0.1:${port}/gate/api/sharing`, { headers });
    expect(before.body.network).toBe(false);

    const moved = await call<{ network: boolean; share: { url: string } }>(
      `http://127.0.0.1:${port}/gate/api/sharing`,
      { method: 'PUT', headers, json: { network: true } }
    );
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ network: true, share: { url: `http://${NETWORK_STAND_IN}:${port}/` } });
    const status = await call<{ network: boolean }>(`http://${NETWORK_STAND_IN}:${port}/gate/api/status`, { headers });
    expect(status.body.network).toBe(true);
    const audit = await call<{ items: Array<{ action: string; details: unknown }> }>(
      `http://${NETWORK_STAND_IN}:${port}/gate/api/audit?action=sharing.changed`,
      { headers }
    );
    expect(audit.body.items[0]).toMatchObject({ action: 'sharing.changed', details: { network: true } });

    const bad = await call<{ error: { message: string } }>(`http://${NETWORK_STAND_IN}:${port}/gate/api/sharing`, {
      method: 'PUT',
      headers,
      json: { network: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/network/);
  });

  it('refuses to put a gate with protection off on the network, and stays where it was', async () => {
    const gate = await gateWith({ mode: 'off' });
    const port = gate.state.listen.port;

    await expect(gate.setSharing(true)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/protection off/) as string,
    });
    const refused = await call<{ error: { code: string; message: string } }>(
      `http://127.0.0.1:${port}/gate/api/sharing`,
      { method: 'PUT', headers: { 'x-api-key': gate.adminKey }, json: { network: true } }
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/Turn protection on/);
    expect(gate.state).toMatchObject({ network: false, listen: { host: '127.0.0.1', port } });
    expect((await call(`http://127.0.0.1:${port}/gate/healthz`)).status).toBe(200);
  });

  it('stays where it was, still answering, when the new address is taken', async () => {
    const gate = await gateWith({ mode: 'required', networkHost: NETWORK_STAND_IN });
    const port = gate.state.listen.port;
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, NETWORK_STAND_IN, resolve));
    try {
      await expect(gate.setSharing(true)).rejects.toMatchObject({
        code: 'conflict',
        message: `Port ${port} on ${NETWORK_STAND_IN} is already in use.`,
      });
      expect(gate.state).toMatchObject({ network: false, listen: { host: '127.0.0.1', port } });
      expect((await call(`http://127.0.0.1:${port}/gate/healthz`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
