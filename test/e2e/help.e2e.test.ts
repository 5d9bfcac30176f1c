import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { launchChromium } from '../helpers/browser.js';
import { call } from '../helpers/http.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Like dashboard.e2e.test.ts: screenshots go to test-output/; the README's copies in docs/screenshots are
// updated by hand from there, so a test run never changes a tracked file.
const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
/** The one console message a signed-out visit must cause: the dashboard's whoami answered 401. */
const EXPECTED_401 = 'Failed to load resource: the server responded with a status of 401 (Unauthorized)';

/** Every section, in the page's order; the teammate sees only some. */
const ALL_SECTIONS = [
  'What ComfyGate does',
  'Connecting',
  'Protection modes',
  'Sharing on your network',
  'Roles and what they may do',
  'Limits',
  'Keys',
  'Logs, usage and audit',
  'API, docs and metrics',
  'Command line',
  'When something goes wrong',
];
const TEAMMATE_SECTIONS = [
  'What ComfyGate does',
  'Connecting',
  'Roles and what they may do',
  'Limits',
  'API, docs and metrics',
  'When something goes wrong',
];
const ERROR_CODES = [
  'unauthorized',
  'forbidden_scope',
  'forbidden_origin',
  'rate_limit_minute',
  'rate_limit_hour',
  'rate_limit_prompts_day',
  'queue_limit',
  'locked_out',
  'upstream_unreachable',
  'upstream_timeout',
];

let outDir: string;
let fake: FakeComfy;
let gate: TestGate;
let browser: Browser;

interface Watched {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, uncaught exceptions (CSP violations are console errors too). */
  problems: string[];
  /** Requests that tried to leave the gate's origin; each was aborted. */
  outside: string[];
}

const watched: Watched[] = [];

async function open(): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: 'light' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gate.url });
  const problems: string[] = [];
  const outside: string[] = [];
  await context.route('**', async (route) => {
    const url = route.request().url();
    if (url.startsWith(`${gate.url}/`) || url.startsWith('data:') || url.startsWith('blob:')) await route.continue();
    else {
      outside.push(url);
      await route.abort('blockedbyclient');
    }
  });
  context.setDefaultTimeout(8_000);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  const entry = { context, page, problems, outside };
  watched.push(entry);
  return entry;
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  const viewport = page.viewportSize();
  if (fullPage && viewport) {
    // A window as tall as the page, rather than a stitched capture: the sticky sidebar stays whole.
    const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
    await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  }
  await page.evaluate('window.scrollTo(0, 0)');
  // No hover highlight on whatever was clicked last.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  if (fullPage && viewport) await page.setViewportSize(viewport);
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The h2 of every help section, in order. */
async function sectionTitles(page: Page): Promise<string[]> {
  return page.locator('main section.help-section h2').allInnerTexts();
}

function section(page: Page, title: string) {
  return page.getByRole('region', { name: title, exact: true });
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'comfygate-help-'));
  // Build the bundle under test now, so the test never runs a stale dist/ (as dashboard.e2e.test.ts does).
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({
      configFile: join(ROOT, 'renderer/vite.config.ts'),
      mode: 'production',
      build: { outDir, emptyOutDir: true },
      logLevel: 'warn',
    });
  } finally {
    if (nodeEnv === undefined) delete process.env['NODE_ENV'];
    else process.env['NODE_ENV'] = nodeEnv;
  }
  fake = await startFakeComfy();
  gate = await startTestGate({ upstream: fake.url, mode: 'required', dashboardDir: outDir });
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  for (const entry of watched) await entry.context.close().catch(() => undefined);
  await browser?.close();
  await gate?.stop();
  await fake?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return;
  const name = context.task.name.replace(/\W+/g, '-').slice(0, 60);
  for (const [i, entry] of watched.entries()) {
    await entry.page.screenshot({ path: join(SCREENSHOTS, `failed-${name}-${i}.png`) }).catch(() => undefined);
  }
});

describe('the help page in a real browser', () => {
  it('opens from the admin navigation with every section and examples built from the gate’s own origin', async () => {
    const { page } = await open();
    await page.goto(`${gate.url}/gate/login?next=/gate/`);
    await signIn(page, gate.adminKey);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Help', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Help' }).waitFor();
    expect(page.url()).toBe(`${gate.url}/gate/#/help`);
    expect(await page.title()).toBe('Help · ComfyGate');
    expect(await sectionTitles(page)).toEqual(ALL_SECTIONS);
    await shot(page, 'help');
    await shot(page, 'help-full', true);

    // The examples name this gate, not a made-up host.
    const connect = section(page, 'Connecting');
    const connectText = await connect.innerText();
    expect(connectText).toContain(`curl -H "X-API-Key: <your key>" ${gate.url}/api/queue`);
    expect(connectText).toContain(`curl -H "Authorization: Bearer <your key>"`);
    expect(connectText).toContain(`requests.get("${gate.url}/api/queue", headers={"X-API-Key": "<your key>"})`);
    expect(connectText).toContain(`${gate.url.replace(/^http/, 'ws')}/ws?clientId=me&token=<your key>`);
    expect(await connect.getByLabel('gate address', { exact: true }).innerText()).toBe(`${gate.url}/`);

    // A copy button copies exactly the example.
    await connect.getByRole('button', { name: 'Copy curl example' }).click();
    await connect.getByRole('button', { name: 'Copy curl example' }).getByText('Copied').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(
      `curl -H "X-API-Key: <your key>" ${gate.url}/api/queue`
    );

    const sharing = await section(page, 'Sharing on your network').innerText();
    expect(sharing).toContain('--host 0.0.0.0');
    expect(sharing).toContain('--allow-unprotected');
    expect(sharing).toContain('403 forbidden_origin');
    const limits = await section(page, 'Limits').innerText();
    expect(limits).toContain('Retry-After');
    expect(limits).toContain('RateLimit-Policy');
    expect(limits).toContain('--preset guest');
    const cli = await section(page, 'Command line').innerText();
    for (const command of ['comfygate serve', 'keys create', 'keys rotate ID', 'auth [off|optional|required]']) {
      expect(cli).toContain(command);
    }
    const errors = section(page, 'When something goes wrong');
    const codes = await errors.locator('tbody td code').allInnerTexts();
    for (const code of ERROR_CODES) expect(codes).toContain(code);
    expect(await errors.locator('tr', { hasText: 'upstream_unreachable' }).innerText()).toContain('--upstream');

    // The contents scroll to a section.
    await page.getByRole('navigation', { name: 'On this page' }).getByRole('button', { name: 'Command line' }).click();
    await expect.poll(() => page.evaluate('window.scrollY')).toBeGreaterThan(0);

    // The docs it points to are there.
    for (const path of ['/gate/docs', '/gate/openapi.json']) {
      expect((await call(`${gate.url}${path}`)).status, path).toBe(200);
    }
  });

  it('shows a teammate the sections meant for them, reachable from their page', async () => {
    const bob = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
      method: 'POST',
      headers: { 'x-api-key': gate.adminKey },
      json: { name: 'bob', preset: 'creator' },
    });
    expect(bob.status).toBe(201);

    const teammate = await open();
    const { page } = teammate;
    // Signed out, the help sends them through the login page and back.
    await page.goto(`${gate.url}/gate/#/help`);
    await page.waitForURL(/\/gate\/login\?next=%2Fgate%2F%23%2Fhelp$/);
    await signIn(page, bob.body.key);
    await page.getByRole('heading', { level: 1, name: 'Help' }).waitFor();
    expect(teammate.problems).toEqual([`error: ${EXPECTED_401}`]);
    teammate.problems.length = 0;

    expect(await page.getByRole('navigation', { name: 'Dashboard' }).count()).toBe(0);
    expect(await sectionTitles(page)).toEqual(TEAMMATE_SECTIONS);
    expect(await section(page, 'Roles and what they may do').innerText()).toContain('Your key is Creator');
    expect(await section(page, 'Connecting').innerText()).toContain(`${gate.url}/api/queue`);
    const unreachable = await section(page, 'When something goes wrong')
      .locator('tr', { hasText: 'upstream_unreachable' })
      .innerText();
    expect(unreachable).toContain('Tell whoever runs the gate');
    expect(unreachable).not.toContain('Settings');
    await shot(page, 'help-teammate', true);

    // Their two pages link to each other; the admin's pages stay closed.
    const sidebar = page.locator('.sidebar');
    await sidebar.getByRole('link', { name: 'My access' }).click();
    await page.getByRole('heading', { level: 1, name: 'Hello, bob' }).waitFor();
    await sidebar.getByRole('link', { name: 'Help', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Help' }).waitFor();
    await page.goto(`${gate.url}/gate/#/keys`);
    await page.waitForURL(`${gate.url}/gate/#/me`);
    await page.getByRole('heading', { level: 1, name: 'Hello, bob' }).waitFor();
  });

  it('logged no console error or warning and made no request outside the gate', () => {
    for (const entry of watched) {
      expect(entry.problems).toEqual([]);
      expect(entry.outside).toEqual([]);
    }
  });
});
