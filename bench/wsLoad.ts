import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, type RawData } from 'ws';
import { cpuWindow, type CpuSample, type CpuWindow } from './processes.js';
import type { FakeComfy } from '../test/fixtures/fakeComfy/index.js';

export interface WsLoadOptions {
  /** The in-process fake ComfyUI that broadcasts to every socket connected to its /ws. */
  fake: Pick<FakeComfy, 'broadcastJson' | 'openSockets'>;
  /** ws:// URL the client connects to: the fake's own /ws or the gate's. */
  url: string;
  /** Sent with the upgrade request (the gate's API key). */
  headers?: Record<string, string>;
  /** Offer permessage-deflate, as browsers (and so the ComfyUI frontend) do. */
  offerCompression: boolean;
  messageBytes: number;
  warmupMs: number;
  durationMs: number;
  /** CPU of a process to charge for the measured window (the gate's), read at its start and end. */
  sampleCpu?: () => CpuSample;
}

export interface WsLoadResult {
  /** Benchmark messages the client received inside the measured window. */
  messages: number;
  /** Average payload size as received (after sizing, exactly the requested size). */
  messageBytes: number;
  durationSec: number;
  messagesPerSec: number;
  bytesPerSec: number;
  /** Whether permessage-deflate was negotiated (the ws client offers it, as browsers do). */
  compressed: boolean;
  /** What `sampleCpu` saw over the measured window. */
  cpu: CpuWindow | undefined;
}

/**
 * Messages sent but not yet received. The sender stops at this many, so memory stays bounded no matter which
 * side is slower, while 512 KB in flight is far more than one loopback round trip needs to keep the pipe full.
 */
const WINDOW = 512;
/** Broadcasts per event-loop turn, so the client in this same process gets to read between batches. */
const BATCH = 64;
/** No message for this long while the window is full means frames are being lost, not slow. */
const STALL_MS = 3_000;

type BenchMessage = { type: string; data: { pad: string } };

/**
 * The `type` of our messages, looked for near the start of each frame to tell them from ComfyUI's greeting
 * (whose `sid` is the clientId, so the marker must not be a plausible clientId).
 */
const MESSAGE_TYPE = 'comfygate-bench-load';
const MARKER = Buffer.from(MESSAGE_TYPE);
/** How far into a frame the marker may start: `{"type": "` plus slack for a different serializer. */
const MARKER_WITHIN = 16;

/**
 * A text message shaped like ComfyUI's (`{"type":…,"data":…}`) whose JSON.stringify form is `bytes` long. The
 * padding is random base64 so that negotiated compression cannot shrink a 1 KB frame to a few bytes.
 */
export function benchMessage(bytes: number): BenchMessage {
  const overhead = JSON.stringify({ type: MESSAGE_TYPE, data: { pad: '' } }).length;
  if (bytes <= overhead) throw new Error(`a benchmark message needs more than ${overhead} bytes`);
  const pad = randomBytes(bytes)
    .toString('base64')
    .slice(0, bytes - overhead);
  return { type: MESSAGE_TYPE, data: { pad } };
}

/**
 * Connects one client to `url`, sizes the message to exactly `messageBytes` on the wire, then broadcasts from the
 * fake as fast as the client drains for warm-up + duration, counting what arrives in the measured window. Ends
 * with the client closed and the fake back to its earlier socket count, so the next case starts clean.
 */
export async function measureWs(options: WsLoadOptions): Promise<WsLoadResult> {
  const { fake, messageBytes } = options;
  const socketsBefore = fake.openSockets();
  const client = await openClient(options.url, options.headers ?? {}, options.offerCompression);
  try {
    await waitFor(() => fake.openSockets() > socketsBefore, 'the fake to see the WebSocket', 5_000);

    let received = 0;
    let counted = 0;
    let countedBytes = 0;
    let measuring = false;
    let lastArrival = performance.now();
    let lastLength = 0;
    client.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const frame = asBuffer(data);
      const at = frame.indexOf(MARKER);
      if (at === -1 || at > MARKER_WITHIN) return;
      received++;
      lastLength = frame.length;
      if (measuring) {
        counted++;
        countedBytes += frame.length;
      }
      lastArrival = performance.now();
    });
    const message = await sizeMessage(messageBytes, async (candidate) => {
      const before = received;
      fake.broadcastJson(candidate);
      await waitFor(() => received > before, 'a sizing message to arrive', 5_000);
      return lastLength;
    });

    let sent = received;
    const measureFrom = performance.now() + options.warmupMs;
    const end = measureFrom + options.durationMs;
    let measureStart = measureFrom;
    let cpuBefore: CpuSample | undefined;
    for (;;) {
      const now = performance.now();
      if (now >= end) break;
      if (!measuring && now >= measureFrom) {
        measuring = true;
        measureStart = now;
        cpuBefore = options.sampleCpu?.();
      }
      for (let batch = 0; batch < BATCH && sent - received < WINDOW; batch++) {
        fake.broadcastJson(message);
        sent++;
      }
      if (sent - received >= WINDOW && now - lastArrival > STALL_MS) {
        throw new Error(`no message arrived for ${STALL_MS} ms with ${sent - received} in flight`);
      }
      await nextTurn();
    }
    const durationSec = (performance.now() - measureStart) / 1000;
    const cpuAfter = options.sampleCpu?.();
    return {
      messages: counted,
      messageBytes: counted > 0 ? countedBytes / counted : Number.NaN,
      durationSec,
      messagesPerSec: counted / durationSec,
      bytesPerSec: countedBytes / durationSec,
      compressed: client.extensions.includes('permessage-deflate'),
      cpu: cpuBefore && cpuAfter ? cpuWindow(cpuBefore, cpuAfter) : undefined,
    };
  } finally {
    await closeClient(client);
    await waitFor(() => fake.openSockets() <= socketsBefore, 'the fake to drop the WebSocket', 5_000).catch(
      () => undefined
    );
  }
}

/**
 * The fake serializes like Python's json.dumps (spaces after `:` and `,`), not like JSON.stringify: send one
 * message, see how long it arrives, and trim the padding by the difference.
 */
async function sizeMessage(
  bytes: number,
  roundTrip: (message: BenchMessage) => Promise<number>
): Promise<BenchMessage> {
  const first = benchMessage(bytes);
  const extra = (await roundTrip(first)) - bytes;
  const sized: BenchMessage = { ...first, data: { pad: first.data.pad.slice(0, first.data.pad.length - extra) } };
  const length = await roundTrip(sized);
  if (length !== bytes) throw new Error(`could not size the message to ${bytes} bytes (arrives as ${length})`);
  return sized;
}

export function openClient(
  url: string,
  headers: Record<string, string>,
  offerCompression: boolean
): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const client = new WebSocket(url, { headers, perMessageDeflate: offerCompression, handshakeTimeout: 5_000 });
    client.once('open', () => {
      client.off('error', reject);
      // Errors after the handshake surface as a stall or as the close below, not as an uncaught event.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', reject);
    client.once('unexpected-response', (_req, res) => {
      reject(new Error(`WebSocket upgrade to ${url} answered HTTP ${res.statusCode}`));
      client.terminate();
    });
  });
}

export async function closeClient(client: WebSocket): Promise<void> {
  if (client.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    // A peer that never answers the close frame must not hold the bench: terminate after a bounded wait.
    const timer = setTimeout(() => {
      client.terminate();
      resolve();
    }, 3_000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.close(1000);
  });
}

function asBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
