import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsRouter } from '../../server/admin/routes/docsRouter.js';
import { launchChromium } from '../helpers/browser.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

let server: Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  const app = express();
  app.use(docsRouter());
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'No such gate endpoint' } });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server?.close(done));
});

interface Watched {
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations (Chromium reports those as console errors). */
  errors: string[];
  /** Requests that tried to leave the test server: each was aborted. */
  outside: string[];
  close: () => Promise<void>;
}

async function openWatched(path: string): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const outside: string[] = [];
  // On the context, so requests from workers are seen too; blob: and data: never touch the network.
  await context.route('**', async (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:')) {
      await route.continue();
    } else {
      outside.push(url);
      await route.abort('blockedbyclient');
    }
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  const response = await page.goto(`${origin}${path}`, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
  return { page, errors, outside, close: () => context.close() };
}

describe('API docs in a real browser', () => {
  it('renders Swagger UI at /gate/docs from this origin only', async () => {
    const { page, errors, outside, close } = await openWatched('/gate/docs');
    try {
      await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
      // data-path holds the plain path; the visible text has zero-width spaces for line breaking.
      const rows = await page.locator('.opblock-summary-path').all();
      const paths = await Promise.all(rows.map((row) => row.getAttribute('data-path')));
      expect(paths).toContain('/gate/api/keys');
      expect(paths).toContain('/gate/api/whoami');
      expect(paths).toContain('/gate/metrics');
      expect(await page.locator('.info .title').innerText()).toContain('ComfyGate');
      await page.screenshot({ path: `${SCREENSHOTS}docs.png` });
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await close();
    }
  });

  it('renders ReDoc at /gate/redoc from this origin only', async () => {
    const { page, errors, outside, close } = await openWatched('/gate/redoc');
    try {
      await page.waitForSelector('[data-section-id="operation/createKey"]', { timeout: 20_000 });
      // Rendered late: the search index is built in a worker after the first paint.
      await page.waitForSelector('input[placeholder="Search..."]', { timeout: 10_000 });
      const text = await page.locator('body').innerText();
      expect(text).toContain('/gate/api/keys');
      expect(text).toContain('/gate/api/whoami');
      expect(text).not.toMatch(/Something went wrong/i);
      await page.screenshot({ path: `${SCREENSHOTS}redoc.png` });
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await close();
    }
  });

  it('serves only the viewer files it needs from the packages', async () => {
    const ok = await fetch(`${origin}/gate/docs/ui/swagger-ui-bundle.js`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/javascript/);
    await ok.arrayBuffer();
    expect((await fetch(`${origin}/gate/redoc/ui/redoc.standalone.js`, { method: 'HEAD' })).status).toBe(200);
    // swagger-ui-dist's own demo page would load the Petstore spec from the internet.
    for (const path of [
      '/gate/docs/ui/index.html',
      '/gate/docs/ui/swagger-initializer.js',
      '/gate/docs/ui/../package.json',
    ]) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(404);
    }
    const spec = (await (await fetch(`${origin}/gate/openapi.json`)).json()) as { openapi: string };
    expect(spec.openapi).toMatch(/^3\.1\./);
  });
});
