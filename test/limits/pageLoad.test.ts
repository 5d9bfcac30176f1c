// Issue 16 item 4: limits protect the GPU, not punish the page. The web UI's own files and opening
// the WebSocket do not count toward requests per minute or hour; API calls do.
import { FIRST_LOAD_API_CALLS } from '../helpers/frontendCalls.js';
import { afterEach, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';
import { RecordingSocket } from '../helpers/wsClient.js';

const { gate } = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
const sockets: RecordingSocket[] = [];

async function keyWith(body: Record<string, unknown>): Promise<string> {
  const res = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'teammate', ...body },
  });
  expect(res.status).toBe(201);
  return res.body.key;
}

function get(key: string, path: string, accept = '*/*') {
  return call(`${gate.url}${path}`, { headers: { 'x-api-key': key, accept } });
}

async function openSocket(key: string, clientId: string): Promise<void> {
  const url = `${gate.url.replace('http', 'ws')}/ws?clientId=${clientId}`;
  sockets.push(await RecordingSocket.open(url, { headers: { 'x-api-key': key } }));
}

/**
 * One load of the current web UI as comfyui-protocol.md §14 recorded it, shortened: the page, its
 * bundle, ES modules, core extensions, icon font and stylesheet, favicon frames; then its API calls,
 * all under /api. Files the fake does not have answer 404, as /user.css does in ComfyUI.
 */
const PAGE_FILES = [
  '/',
  '/assets/app.js',
  '/assets/app.css',
  '/extensions/core/x.js',
  '/materialdesignicons.min.css',
  '/user.css',
  '/fonts/materialdesignicons-webfont.woff2',
  '/scripts/app.js',
  ...Array.from({ length: 60 }, (_, i) => `/assets/index-${i}.js`),
  ...Array.from({ length: 60 }, (_, i) => `/assets/lib/module-${i}.js`),
  ...Array.from({ length: 20 }, (_, i) => `/extensions/core/ext-${i}.js`),
  ...Array.from({ length: 8 }, (_, i) => `/assets/images/favicon_progress_16x16/frame_${i}.png`),
];
const API_CALLS = FIRST_LOAD_API_CALLS;
/** Opening the sidebars: templates (their index and thumbnails are files), workflows, queue thumbnails. */
const SIDEBAR_CALLS = [
  '/api/workflow_templates',
  '/templates/index.json',
  ...Array.from({ length: 12 }, (_, i) => `/templates/template-${i}.webp`),
  '/api/userdata/workflows%2F.index.json',
  ...Array.from({ length: 8 }, (_, i) => `/api/view?filename=ComfyUI_0000${i}_.png&type=output&preview=webp;90`),
];

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

describe('what counts toward requests per minute', () => {
  it('a guest-preset key loads the web UI three times in a minute and opens its sidebars without a 429', async () => {
    const key = await keyWith({ preset: 'guest' });
    const statuses: number[] = [];
    for (let load = 0; load < 3; load++) {
      statuses.push((await get(key, '/', 'text/html,*/*;q=0.8')).status);
      const files = await Promise.all(PAGE_FILES.map((path) => get(key, path)));
      statuses.push(...files.map((res) => res.status));
      for (const path of API_CALLS) statuses.push((await get(key, path)).status);
      await openSocket(key, `tab-${load}`);
      for (const path of SIDEBAR_CALLS) statuses.push((await get(key, path)).status);
    }
    expect(statuses.length).toBeGreaterThan(500);
    expect(statuses.filter((status) => status === 429)).toEqual([]);
  });

  it('a script hammering /history or /prompt with a guest-preset key still gets 429', async () => {
    const key = await keyWith({ preset: 'guest' });
    let history = 0;
    for (let i = 0; i < 200 && history === 0; i++) {
      const res = await get(key, '/api/history?max_items=64');
      if (res.status === 429) history = i;
    }
    expect(history).toBeGreaterThan(0);

    const other = await keyWith({ preset: 'guest' });
    let prompt = 0;
    for (let i = 0; i < 200 && prompt === 0; i++) {
      const res = await call(`${gate.url}/api/prompt`, {
        headers: { 'x-api-key': other },
        json: { prompt: SMALL_PROMPT },
      });
      if (res.status === 429) prompt = i;
    }
    expect(prompt).toBeGreaterThan(0);
  });

  it('files of the page and WebSocket upgrades are free; every API call and odd spelling counts', async () => {
    const key = await keyWith({ limits: { perMinute: 2, perHour: 100 } });
    for (let i = 0; i < 3; i++) {
      expect((await get(key, '/', 'text/html')).status).toBe(200);
      expect((await get(key, '/assets/app.js')).status).toBe(200);
      expect((await get(key, '/templates/index.json')).status).toBe(200);
      await openSocket(key, `free-${i}`);
    }
    expect((await get(key, '/api/queue')).status).toBe(200);
    // Percent-encoded, it is not counted as a file: the second of two allowed calls.
    expect((await get(key, '/%61ssets/app.js')).status).toBe(200);
    const refused = await get(key, '/api/queue');
    expect(refused.status).toBe(429);
    // Still free while the key is at its limit.
    expect((await get(key, '/assets/app.css')).status).toBe(200);
    await openSocket(key, 'free-after');
    // Nothing under /api is a file of the page: the assets API counts.
    expect((await get(key, '/api/assets/app.js')).status).toBe(429);
    // Naming Upgrade does not make a plain request a WebSocket handshake.
    const named = await rawExchange(
      Number(new URL(gate.url).port),
      `GET /api/queue HTTP/1.1\r\nHost: ${gate.host}\r\nX-API-Key: ${key}\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n`
    );
    expect(named.slice(9, 12)).toBe('429');
  });
});
