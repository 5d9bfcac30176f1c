// Issue 16 item 1 in a real Chromium: what a browser is refused is a page a person can read, and a
// refused POST /prompt shows its message in the ComfyUI frontends' own error dialog.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { launchChromium } from '../helpers/browser.js';
import { SCREENSHOTS, signIn } from '../helpers/dashboardBrowser.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

interface Window {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings and uncaught exceptions (a CSP violation is a console error). */
  problems: string[];
}

let fake: FakeComfy;
let gate: TestGate;
let browser: Browser;
const windows: Window[] = [];

async function open(colorScheme: 'light' | 'dark' = 'light'): Promise<Window> {
  const context = await browser.newContext({ viewport: { width: 900, height: 640 }, colorScheme });
  context.setDefaultTimeout(8_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    // Chromium reports a document that answered with an error status; that status is the point here.
    if (text.startsWith('Failed to load resource: the server responded with a status of')) return;
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  const window = { context, page, problems };
  windows.push(window);
  return window;
}

async function createKey(body: Record<string, unknown>): Promise<{ key: string; id: string }> {
  const res = await call<{ key: string; id: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'teammate', ...body },
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Signs in on the gate's own sign-in page, as a teammate does. */
async function signedIn(page: Page, key: string): Promise<void> {
  await page.goto(`${gate.url}/gate/login?next=/`);
  await signIn(page, key);
  await page.waitForURL(`${gate.url}/`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

beforeAll(async () => {
  fake = await startFakeComfy({ nodeDelayMs: 5 });
  gate = await startTestGate({ upstream: fake.url, mode: 'required' });
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') {
    for (const [i, window] of windows.entries()) {
      await window.page.screenshot({ path: join(SCREENSHOTS, `failed-refusals-${i}.png`) }).catch(() => undefined);
    }
  }
  for (const window of windows.splice(0)) await window.context.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await gate?.stop();
  await fake?.close();
});

describe('refusal pages in a browser', () => {
  it('403: says the key may not do this, whom to ask, and offers to sign in with another key', async () => {
    const { page, problems } = await open();
    await signedIn(page, (await createKey({ role: 'viewer' })).key);
    const res = await page.goto(`${gate.url}/internal/folder_paths`);
    expect(res?.status()).toBe(403);
    await expect(page.title()).resolves.toBe('Your key may not do this · ComfyGate');
    await page.getByRole('heading', { level: 1, name: 'Your key may not do this' }).waitFor();
    expect(await page.getByRole('alert').innerText()).toContain("needs scope 'manage'");
    await page.getByText('Ask the person who runs this ComfyUI').waitFor();
    await shot(page, 'refusal-403');
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(`${gate.url}/gate/login?next=%2Finternal%2Ffolder_paths`);
    await page.getByLabel('API key').waitFor();
    expect(problems).toEqual([]);
  });

  it('429: says when to try again, in dark mode too', async () => {
    const { page, problems } = await open('dark');
    await signedIn(page, (await createKey({ limits: { perMinute: 1 } })).key);
    expect((await page.goto(`${gate.url}/api/queue`))?.status()).toBe(200);
    const res = await page.goto(`${gate.url}/api/queue`);
    expect(res?.status()).toBe(429);
    await page.getByRole('heading', { name: 'Too many requests this minute' }).waitFor();
    expect(await page.getByText(/^You can try again in \d+ (?:seconds?|minutes)\.$/).count()).toBe(1);
    await shot(page, 'refusal-429-dark');
    expect(await page.getByRole('link', { name: 'Try again' }).getAttribute('href')).toBe('/api/queue');
    expect(problems).toEqual([]);
  });

  it('a revoked key’s session lands on the sign-in page, which says why and what to do', async () => {
    const { page, problems } = await open();
    const { key, id } = await createKey({});
    await signedIn(page, key);
    await call(`${gate.url}/gate/api/keys/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { active: false },
    });
    await page.reload();
    await page.waitForURL(`${gate.url}/gate/login?next=%2F&reason=revoked`);
    expect(await page.getByRole('alert').innerText()).toBe(
      'Your key was revoked (deactivated).\nAsk the person who runs this ComfyUI to activate it again or for a new key.'
    );
    await shot(page, 'refusal-401-sign-in');
    expect(problems).toEqual([]);
  });

  it('502: ComfyUI down, with a way to try again', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const deadPort = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const down = await startTestGate({ upstream: `http://127.0.0.1:${deadPort}` });
    try {
      const { page, problems } = await open();
      const res = await page.goto(`${down.url}/`);
      expect(res?.status()).toBe(502);
      await page.getByRole('heading', { name: 'ComfyUI is not reachable' }).waitFor();
      await shot(page, 'refusal-502');
      expect(await page.getByRole('link', { name: 'Try again' }).getAttribute('href')).toBe('/');
      expect(problems).toEqual([]);
    } finally {
      await down.stop();
    }
  });
});

/**
 * How ComfyUI's two frontends show a refused `POST /prompt` (comfyui-protocol.md §14), reduced to the
 * code that reads the answer. Current frontend: `PromptExecutionError.toString()`; the older plain-JS
 * one: `api.queuePrompt` throws `{response}` and `app.#formatPromptError` walks `node_errors`.
 */
const FRONTENDS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Queue</title><style>pre{white-space:pre-wrap}</style></head>
<body>
<button id="current">Queue (current frontend)</button>
<button id="legacy">Queue (older frontend)</button>
<pre id="current-dialog" role="dialog" aria-label="current frontend"></pre>
<pre id="legacy-dialog" role="dialog" aria-label="older frontend"></pre>
<script>
const PROMPT = ${JSON.stringify(SMALL_PROMPT)};
async function queuePrompt() {
  const res = await fetch('/api/prompt', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: 'tab-1', prompt: PROMPT, extra_data: { extra_pnginfo: {} } }),
  });
  if (res.status !== 200) throw { response: await res.json() };
  return res.json();
}
function currentMessage(response) {
  let message = '';
  if (typeof response.error === 'string') message += response.error;
  else if (response.error) message += response.error.message + ': ' + response.error.details;
  for (const [, nodeError] of Object.entries(response.node_errors ?? {})) {
    message += '\\n' + nodeError.class_type + ':';
    for (const reason of nodeError.errors) message += '\\n    - ' + reason.message + ': ' + reason.details;
  }
  return message;
}
function legacyMessage(error) {
  let message = error.response.error.message;
  if (error.response.error.details) message += ': ' + error.response.error.details;
  for (const [nodeID, nodeError] of Object.entries(error.response.node_errors)) {
    message += '\\n' + nodeError.class_type + ':';
    for (const errorReason of nodeError.errors) message += '\\n    - ' + errorReason.message + ': ' + errorReason.details;
  }
  return message;
}
document.getElementById('current').onclick = () =>
  queuePrompt().catch((e) => { document.getElementById('current-dialog').textContent = currentMessage(e.response); });
document.getElementById('legacy').onclick = () =>
  queuePrompt().catch((e) => { document.getElementById('legacy-dialog').textContent = legacyMessage(e); });
</script>
</body></html>`;

describe('a refused POST /prompt in the ComfyUI frontends’ dialogs', () => {
  it('shows the gate’s message and what to do in both, with no page error', async () => {
    const { page, problems } = await open();
    await signedIn(page, (await createKey({ role: 'viewer' })).key);
    // Served as if from the gate's origin, so its fetch goes to the gate with the session cookie.
    await page.route(`${gate.url}/queue-test.html`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: FRONTENDS_PAGE })
    );
    await page.goto(`${gate.url}/queue-test.html`);
    const expected =
      "POST /prompt needs scope 'generate'; this key (role viewer) has read: Your key's role does not include it. " +
      'Ask the person who runs this ComfyUI for a key that may, or sign in with another key.';
    await page.getByRole('button', { name: 'Queue (current frontend)' }).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'current frontend' }).innerText()).toBe(expected);
    await page.getByRole('button', { name: 'Queue (older frontend)' }).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'older frontend' }).innerText()).toBe(expected);
    await shot(page, 'refusal-prompt-dialogs');
    expect(problems).toEqual([]);
  });
});
