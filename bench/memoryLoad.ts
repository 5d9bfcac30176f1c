// The gate's memory under the loads issue 15 named: large `POST /prompt` bodies, alone and at once, and many idle
// WebSockets with and without permessage-deflate. Measured on the gate's own process, from /proc.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { RawData, WebSocket } from 'ws';
import type { FakeComfy } from '../test/fixtures/fakeComfy/index.js';
import { SMALL_PROMPT } from '../test/helpers/prompts.js';
import { readRssBytes } from './processes.js';
import { benchMessage, closeClient, openClient, waitFor } from './wsLoad.js';

/** How the gate's memory was read at its highest. */
export type PeakSource = 'VmHWM' | 'sampled';

export interface PromptMemoryCase {
  label: string;
  bodies: number;
  bodyBytes: number;
  /** The gate's RSS right before the bodies were sent. */
  baselineBytes: number;
  peakBytes: number;
  peakSource: PeakSource;
  /** The gate's inspected-body budget, from its metrics. */
  budgetBytes: number;
  /** HTTP status → how many bodies got it. */
  statuses: Record<string, number>;
}

export interface IdleWsCase {
  label: string;
  offerCompression: boolean;
  sockets: number;
  /** Whether the gate negotiated permessage-deflate with the clients. */
  compressed: boolean;
  beforeBytes: number;
  afterBytes: number;
}

export interface GateUnderTest {
  url: string;
  pid: number;
  auth: Record<string, string>;
  adminAuth: Record<string, string>;
}

/** How often RSS is read while bodies are in flight, as a floor under VmHWM where that cannot be reset. */
const SAMPLE_MS = 5;

/**
 * A prompt as the ComfyUI frontend sends it, about `bytes` long: a small graph and a large UI workflow in
 * extra_pnginfo (many node objects: what makes parsing a prompt into objects expensive).
 */
export function promptBody(bytes: number): Buffer {
  const head = `{"prompt":${JSON.stringify(SMALL_PROMPT)},"extra_data":{"extra_pnginfo":{"workflow":{"nodes":[`;
  const tail = ']}}}}';
  const parts: string[] = [];
  let size = head.length + tail.length;
  for (let i = 0; size < bytes; i++) {
    const node =
      `{"id":${i},"type":"KSampler","pos":[${i},${i * 2}],"size":[315,262],"flags":{},"order":${i},"mode":0,` +
      `"inputs":[{"name":"model","type":"MODEL","link":${i}}],"outputs":[{"name":"LATENT","type":"LATENT",` +
      `"links":[${i + 1}]}],"properties":{"Node name for S&R":"KSampler"},` +
      `"widgets_values":[${i},"randomize",20,8,"euler","normal",1]}`;
    parts.push(node);
    size += node.length + 1;
  }
  return Buffer.from(head + parts.join(',') + tail);
}

function readHighWaterBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets the process's peak RSS (Linux `clear_refs` 5); false where that is not allowed. */
function resetHighWater(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function budgetOf(gate: GateUnderTest): Promise<number> {
  const res = await request(`${gate.url}/gate/metrics`, { headers: gate.adminAuth });
  const text = await res.body.text();
  const value = /^comfygate_inspected_body_budget_bytes (\d+)/m.exec(text)?.[1];
  if (value === undefined) throw new Error('the gate reports no comfygate_inspected_body_budget_bytes');
  return Number(value);
}

async function postPrompt(gate: GateUnderTest, body: Buffer): Promise<number> {
  const res = await request(`${gate.url}/prompt`, {
    method: 'POST',
    headers: { ...gate.auth, 'content-type': 'application/json' },
    body,
  });
  await res.body.dump();
  return res.statusCode;
}

/** Sends `bodies` copies of a `bodyBytes` prompt at once and reads the gate's peak RSS meanwhile. */
export async function measurePromptMemory(
  gate: GateUnderTest,
  label: string,
  bodies: number,
  bodyBytes: number
): Promise<PromptMemoryCase> {
  const body = promptBody(bodyBytes);
  const budgetBytes = await budgetOf(gate);
  // Let the gate's start-up garbage go before the baseline is read.
  await sleep(1_000);
  const baselineBytes = readRssBytes(gate.pid);
  const reset = resetHighWater(gate.pid);
  let sampled = baselineBytes;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, readRssBytes(gate.pid));
  }, SAMPLE_MS);
  let codes: number[];
  try {
    codes = await Promise.all(Array.from({ length: bodies }, () => postPrompt(gate, body)));
  } finally {
    clearInterval(sampler);
  }
  sampled = Math.max(sampled, readRssBytes(gate.pid));
  const statuses: Record<string, number> = {};
  for (const code of codes) statuses[code] = (statuses[code] ?? 0) + 1;
  if (!statuses['200']) throw new Error(`no prompt was accepted: ${JSON.stringify(statuses)}`);
  return {
    label,
    bodies,
    bodyBytes: body.length,
    baselineBytes,
    peakBytes: reset ? Math.max(sampled, readHighWaterBytes(gate.pid)) : sampled,
    peakSource: reset ? 'VmHWM' : 'sampled',
    budgetBytes,
    statuses,
  };
}

/** The `type` of benchMessage()'s messages. */
const BROADCAST_TYPE = benchMessage(64).type;
/** Sockets opened at once while a batch is connecting: enough to be quick, few enough not to time out. */
const OPEN_BATCH = 50;

/**
 * Opens `sockets` WebSockets through the gate and leaves them idle once each has done what a ComfyUI tab does:
 * sent its feature flags (compressed by a deflate client, so the gate holds the inflate state a browser tab's
 * socket makes it hold) and received a 4 KB message. The RSS difference is what the gate holds for them.
 */
export async function measureIdleWs(
  gate: GateUnderTest,
  fake: Pick<FakeComfy, 'broadcastJson' | 'openSockets'>,
  label: string,
  sockets: number,
  offerCompression: boolean,
  limitMs: number
): Promise<IdleWsCase> {
  const deadline = Date.now() + limitMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const url = gate.url.replace(/^http/, 'ws') + '/ws';
  const flags = JSON.stringify({
    type: 'feature_flags',
    data: { supports_preview_metadata: true, pad: 'x'.repeat(2048) },
  });
  const clients: WebSocket[] = [];
  let flagReplies = 0;
  let broadcasts = 0;
  const count = (data: RawData): void => {
    const text = Buffer.isBuffer(data) ? data.toString('latin1', 0, 64) : '';
    if (text.includes('"feature_flags"')) flagReplies++;
    else if (text.includes(BROADCAST_TYPE)) broadcasts++;
  };
  // Let the gate's start-up garbage go before the baseline is read.
  await sleep(1_000);
  const beforeBytes = readRssBytes(gate.pid);
  try {
    while (clients.length < sockets) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(OPEN_BATCH, sockets - clients.length) }, () =>
          openClient(url, gate.auth, offerCompression)
        )
      );
      for (const client of batch) {
        clients.push(client);
        // Sent after the listener is on, so the reply is never missed.
        client.on('message', count);
        client.send(flags);
      }
      if (Date.now() > deadline) throw new Error(`opened only ${clients.length} of ${sockets} sockets in time`);
    }
    await waitFor(() => flagReplies >= sockets, 'the feature flags replies', left());
    fake.broadcastJson(benchMessage(4096));
    await waitFor(() => broadcasts >= sockets, 'the broadcast on every socket', left());
    await sleep(Math.min(1_000, left()));
    const afterBytes = readRssBytes(gate.pid);
    return {
      label,
      offerCompression,
      sockets,
      compressed: clients[0]?.extensions.includes('permessage-deflate') ?? false,
      beforeBytes,
      afterBytes,
    };
  } finally {
    await Promise.all(clients.map((client) => closeClient(client)));
  }
}
