// A real browser's WebSocket through the gate: Chromium always offers permessage-deflate, and the gate sends
// it frames as ComfyUI sent them, uncompressed. What the page receives must be exactly what ComfyUI sent.
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewFrame } from '../fixtures/fakeComfy/index.js';
import { launchChromium } from '../helpers/browser.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { fake, gate } = withGateAndComfy();
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser.close();
});

interface PageMessage {
  text?: string;
  /** A binary frame, base64. */
  binary?: string;
}

/**
 * Opens a socket from the page as the ComfyUI frontend does, sends its feature flags, and records what arrives
 * in `window.received`; resolves with the extensions the browser negotiated. (Page scripts are strings: the test
 * project compiles without the DOM's types.)
 */
function openFromPage(page: Page, clientId: string): Promise<string> {
  return page.evaluate<string>(`(async () => {
    const received = [];
    window.received = received;
    const socket = new WebSocket(location.origin.replace('http', 'ws') + '/ws?clientId=${clientId}');
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') {
        received.push({ text: event.data });
        return;
      }
      let bytes = '';
      for (const byte of new Uint8Array(event.data)) bytes += String.fromCharCode(byte);
      received.push({ binary: btoa(bytes) });
    };
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    socket.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    return socket.extensions;
  })()`);
}

/** What the page has received, once `until` (a page expression) holds. */
async function receivedWhen(page: Page, until: string): Promise<PageMessage[]> {
  await page.waitForFunction(until, undefined, { timeout: 5_000 });
  return page.evaluate<PageMessage[]>('window.received');
}

describe("a browser's WebSocket through the gate", () => {
  it("negotiates permessage-deflate and gets ComfyUI's messages and previews exactly as sent", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${gate.url}/`);
      expect(await openFromPage(page, 'browser-tab')).toBe('permessage-deflate');
      // The feature flags reply shows the page's own (compressed) message reached ComfyUI.
      await receivedWhen(page, 'window.received.some((m) => m.text?.includes(\'"feature_flags"\'))');

      const progress = { type: 'progress', data: { value: 3, max: 20, node: '3', prompt_id: 'p1' } };
      const executed = { type: 'executed', data: { node: '9', output: { text: ['Grüße 🎨 '.repeat(10_000)] } } };
      const preview = previewFrame('jpeg', randomBytes(100_000));
      fake.broadcastJson(progress);
      fake.broadcastJson(executed);
      fake.broadcastBinary(preview);
      const received = await receivedWhen(page, 'window.received.some((m) => m.binary !== undefined)');

      const texts = received.flatMap((m) => (m.text ? [JSON.parse(m.text) as unknown] : []));
      expect(texts).toContainEqual(progress);
      expect(texts).toContainEqual(executed);
      expect(received.filter((m) => m.binary !== undefined)).toEqual([{ binary: preview.toString('base64') }]);
    } finally {
      await page.close();
    }
  });
});
