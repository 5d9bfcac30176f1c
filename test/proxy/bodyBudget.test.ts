import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const MB = 1024 * 1024;

const { gate } = withGateAndComfy({ gate: { mode: 'required', bodyBudgetMb: 4 } });
let port: number;

beforeAll(() => {
  port = Number(new URL(gate.url).port);
});

/** A valid prompt of exactly `bytes` bytes: a big UI workflow in extra_pnginfo, as the ComfyUI frontend sends. */
function promptOf(bytes: number): Buffer {
  const head = JSON.stringify({ prompt: SMALL_PROMPT, extra_data: { extra_pnginfo: { workflow: { pad: '' } } } });
  const padAt = head.indexOf('""') + 1;
  return Buffer.from(head.slice(0, padAt) + 'x'.repeat(bytes - head.length) + head.slice(padAt));
}

/** Bytes the gate holds for bodies it is checking, read from its metrics. */
async function inspectedBytes(): Promise<number> {
  const text = (await call(`${gate.url}/gate/metrics`, { headers: { 'x-api-key': gate.adminKey } })).text;
  return Number(/^comfygate_inspected_body_bytes (\d+)/m.exec(text)?.[1]);
}

/** Polls an async `check` until it holds; fails with `message` after a few seconds. */
async function until(check: () => Promise<boolean>, message: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A `POST /prompt` whose headers and first bytes are sent; the rest waits for `finish`. */
function startPost(body: Buffer): { socket: Socket; finish: () => Promise<string> } {
  const socket = connect({ port, host: '127.0.0.1' });
  let answer = '';
  const closed = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
  });
  socket.write(
    `POST /prompt HTTP/1.1\r\nHost: ${gate.host}\r\nX-API-Key: ${gate.adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`
  );
  socket.write(body.subarray(0, 1024));
  return {
    socket,
    finish: () => {
      socket.write(body.subarray(1024));
      return closed;
    },
  };
}

async function post(body: Buffer | Readable) {
  const res = await request(`${gate.url}/prompt`, {
    method: 'POST',
    headers: { 'x-api-key': gate.adminKey, 'content-type': 'application/json' },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

describe('the memory budget of inspected bodies', () => {
  it('answers 503 with Retry-After past the budget, lets bodies within it pass, and frees it after each', async () => {
    const held = startPost(promptOf(3 * MB));
    await until(async () => (await inspectedBytes()) >= 3 * MB, 'the first body reserved its length');

    const refused = await post(promptOf(2 * MB));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.text)).toMatchObject({
      error: {
        code: 'server_busy',
        message: expect.stringMatching(/send this request again in a few seconds/) as unknown,
      },
    });

    const small = await post(promptOf(512 * 1024));
    expect(small.status).toBe(200);

    expect(await held.finish()).toMatch(/^HTTP\/1\.1 200 /);
    await until(async () => (await inspectedBytes()) === 0, 'every body gave its memory back');
    expect((await post(promptOf(2 * MB))).status).toBe(200);
  });

  it('gives the memory back when an upload is cut off', async () => {
    const cut = startPost(promptOf(3 * MB));
    await until(async () => (await inspectedBytes()) >= 3 * MB, 'the body reserved its length');
    cut.socket.destroy();
    await until(async () => (await inspectedBytes()) === 0, 'the cut-off body gave its memory back');
    expect((await post(promptOf(3 * MB))).status).toBe(200);
  });

  it('refuses a chunked body once it outgrows what the budget has left', async () => {
    const held = startPost(promptOf(3 * MB));
    await until(async () => (await inspectedBytes()) >= 3 * MB, 'the first body reserved its length');
    const body = promptOf(2 * MB);
    const chunks = Readable.from(
      (function* () {
        for (let at = 0; at < body.length; at += 64 * 1024) yield body.subarray(at, at + 64 * 1024);
      })()
    );
    const refused = await post(chunks);
    expect(refused.status).toBe(503);
    held.socket.destroy();
    await until(async () => (await inspectedBytes()) === 0, 'both bodies gave their memory back');
  });

  it('refuses a body larger than the whole budget as too large, not as busy', async () => {
    const refused = await post(promptOf(5 * MB));
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});

describe('an inspected prompt', () => {
  it('reaches ComfyUI with every byte it did not edit, text in any script included', async () => {
    const text = 'Grüße, 日本語, 🎨 "quoted" \\ back';
    const body = Buffer.from(
      `{"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},` +
        ` "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "gate_test"}}},` +
        ` "extra_data": {"extra_pnginfo": {"note": ${JSON.stringify(text)}, "seed": 18446744073709551615}}, "front": true}`
    );
    const answer = await post(body);
    expect(answer.status).toBe(200);
    const { prompt_id: promptId } = JSON.parse(answer.text) as { prompt_id: string };
    let entry: { prompt: unknown[] } | undefined;
    await until(async () => {
      const history = await call<Record<string, { prompt: unknown[] }>>(`${gate.url}/history/${promptId}`, {
        headers: { 'x-api-key': gate.adminKey },
      });
      entry = history.body[promptId];
      return entry !== undefined;
    }, 'the prompt ran');
    const extraData = entry!.prompt[3] as { extra_pnginfo: { note: string } };
    expect(extraData.extra_pnginfo.note).toBe(text);
  });

  it('refuses a prompt_id that is not a string: ComfyUI would take it unchecked', async () => {
    const answer = await post(Buffer.from(JSON.stringify({ prompt: SMALL_PROMPT, prompt_id: 12345 })));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({
      error: { code: 'bad_request', message: 'prompt_id must be a string' },
    });
  });
});
