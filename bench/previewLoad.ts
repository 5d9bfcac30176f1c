// A busy team's WebSockets: many tabs open and idle, a few of them watching their prompt's previews stream in.
// Measures what the gate holds for the sockets (RSS) and what relaying the previews costs it (CPU).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { RawData, WebSocket } from 'ws';
import { previewFrameWithMetadata, type FakeComfy } from '../test/fixtures/fakeComfy/index.js';
import { SMALL_PROMPT } from '../test/helpers/prompts.js';
import { cpuWindow, readRssBytes, type CpuSample } from './processes.js';
import { closeClient, openClient, waitFor } from './wsLoad.js';

export interface PreviewLoadOptions {
  sockets: number;
  /** How many of the sockets get previews; the rest stay idle. */
  watching: number;
  previewBytes: number;
  /** Previews per second to each watching socket, about what a sampler's live preview sends. */
  perSecond: number;
  durationMs: number;
  limitMs: number;
}

export interface PreviewLoadResult {
  sockets: number;
  watching: number;
  compressed: boolean;
  /** Gate RSS before any socket, with every socket open and idle, and after the previews. */
  rssBeforeBytes: number;
  rssOpenBytes: number;
  rssAfterBytes: number;
  previewsSent: number;
  previewsReceived: number;
  /** Previews that reached a socket that was not watching: must stay 0. */
  strayPreviews: number;
  durationSec: number;
  /** The gate's CPU over the preview window, as a share of one core, and per preview delivered. */
  cpuShare: number;
  cpuUsPerPreview: number;
}

export interface PreviewGate {
  url: string;
  pid: number;
  auth: Record<string, string>;
  sampleCpu: () => CpuSample;
}

const OPEN_BATCH = 50;
const BINARY_PREVIEW_WITH_METADATA = 4;

/** Queues one prompt through the gate, so team isolation knows the previews that name it are this key's. */
async function queueOwnPrompt(gate: PreviewGate, clientId: string): Promise<string> {
  const res = await request(`${gate.url}/prompt`, {
    method: 'POST',
    headers: { ...gate.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, prompt: SMALL_PROMPT }),
  });
  const text = await res.body.text();
  const id = (JSON.parse(text) as { prompt_id?: unknown }).prompt_id;
  if (res.statusCode !== 200 || typeof id !== 'string')
    throw new Error(`POST /prompt answered ${res.statusCode}: ${text}`);
  return id;
}

export async function measurePreviewLoad(
  gate: PreviewGate,
  fake: Pick<FakeComfy, 'sendBinaryTo'>,
  options: PreviewLoadOptions
): Promise<PreviewLoadResult> {
  const deadline = Date.now() + options.limitMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const clientId = (i: number): string => `bench-tab-${i}`;
  const clients: WebSocket[] = [];
  let received = 0;
  let stray = 0;
  // Only the bench's previews count, not one the queued prompt's own run may send.
  let previewLength = -1;
  await sleep(1_000);
  const rssBeforeBytes = readRssBytes(gate.pid);
  try {
    while (clients.length < options.sockets) {
      const first = clients.length;
      const batch = await Promise.all(
        Array.from({ length: Math.min(OPEN_BATCH, options.sockets - first) }, (_, j) =>
          openClient(`${gate.url.replace(/^http/, 'ws')}/ws?clientId=${clientId(first + j)}`, gate.auth, true)
        )
      );
      for (const [j, client] of batch.entries()) {
        const watching = first + j < options.watching;
        client.on('message', (data: RawData, isBinary: boolean) => {
          if (!isBinary || !Buffer.isBuffer(data) || data.length !== previewLength) return;
          if (data.readUInt32BE(0) !== BINARY_PREVIEW_WITH_METADATA) return;
          if (watching) received++;
          else stray++;
        });
        client.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
        clients.push(client);
      }
      if (Date.now() > deadline) throw new Error(`opened only ${clients.length} of ${options.sockets} sockets in time`);
    }
    const promptId = await queueOwnPrompt(gate, clientId(0));
    await sleep(Math.min(1_000, left()));
    const rssOpenBytes = readRssBytes(gate.pid);
    const frame = previewFrameWithMetadata(
      {
        node_id: '1',
        prompt_id: promptId,
        display_node_id: '1',
        parent_node_id: null,
        real_node_id: '1',
        image_type: 'image/jpeg',
      },
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(options.previewBytes - 3)])
    );
    previewLength = frame.length;
    const tickMs = 1000 / options.perSecond;
    const ticks = Math.round(options.durationMs / tickMs);
    let sent = 0;
    const before = gate.sampleCpu();
    const start = performance.now();
    for (let tick = 0; tick < ticks; tick++) {
      for (let i = 0; i < options.watching; i++) fake.sendBinaryTo(clientId(i), frame);
      sent += options.watching;
      await sleep(Math.max(0, start + (tick + 1) * tickMs - performance.now()));
    }
    await waitFor(() => received >= sent, 'every preview to arrive', left()).catch(() => undefined);
    const durationSec = (performance.now() - start) / 1000;
    const cpu = cpuWindow(before, gate.sampleCpu());
    return {
      sockets: clients.length,
      watching: options.watching,
      compressed: clients[0]?.extensions.includes('permessage-deflate') ?? false,
      rssBeforeBytes,
      rssOpenBytes,
      rssAfterBytes: readRssBytes(gate.pid),
      previewsSent: sent,
      previewsReceived: received,
      strayPreviews: stray,
      durationSec,
      cpuShare: cpu.processSeconds / durationSec,
      cpuUsPerPreview: (cpu.processSeconds * 1e6) / Math.max(1, received),
    };
  } finally {
    await Promise.all(clients.map((client) => closeClient(client)));
  }
}
