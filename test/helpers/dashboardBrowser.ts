import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { launchChromium } from './browser.js';
import { startTestGate, type TestGate } from './testGate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots go to test-output/; the README's copies in docs/screenshots are updated by hand from there. */
export const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
/** The console message a signed-out visit causes: the dashboard's whoami answered 401. */
export const EXPECTED_401 = 'Failed to load resource: the server responded with a status of 401 (Unauthorized)';

export interface Watched {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, uncaught exceptions (CSP violations are console errors too). */
  problems: string[];
  /** Requests that tried to leave the gate's origin; each was aborted. */
  outside: string[];
}

export interface OpenOptions {
  colorScheme?: 'light' | 'dark';
  /** A context's storageState() JSON, to open a second window of a signed-in browser. */
  storageState?: string;
  /** Lets the page read and write the clipboard (copy buttons). */
  clipboard?: boolean;
}

/** The dashboard as users get it, a gate serving it in front of a fake ComfyUI, and a real Chromium. */
export interface DashboardHarness {
  fake: FakeComfy;
  gate: TestGate;
  browser: Browser;
  /** Every window opened so far. */
  watched: readonly Watched[];
  /** A new browser window that records console problems and blocks every request off the gate's origin. */
  open(options?: OpenOptions): Promise<Watched>;
  /** Saves `name`.png of the page, from the top, without toasts or a hover highlight. */
  shot(page: Page, name: string, fullPage?: boolean): Promise<void>;
  /** What every open window showed, for a test that failed. */
  screenshotFailure(testName: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Builds the bundle under test into a temp folder first, so a test never runs a stale dist/. vitest
 * runs with NODE_ENV=test, which would bundle React's development build: build what users get.
 */
async function buildDashboard(outDir: string): Promise<void> {
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
}

export async function startDashboardHarness(): Promise<DashboardHarness> {
  const outDir = await mkdtemp(join(tmpdir(), 'comfygate-dashboard-'));
  await buildDashboard(outDir);
  const fake = await startFakeComfy();
  const gate = await startTestGate({ upstream: fake.url, mode: 'required', dashboardDir: outDir });
  const browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const watched: Watched[] = [];

  async function open({ colorScheme = 'light', storageState, clipboard = false }: OpenOptions = {}): Promise<Watched> {
    const context = await browser.newContext({
      viewport: { width: 1360, height: 860 },
      colorScheme,
      ...(storageState ? { storageState: JSON.parse(storageState) as never } : {}),
    });
    if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gate.url });
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
    // Fail a step in seconds, not at the test's time limit.
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
    await page.evaluate(`document.querySelectorAll('.toast button').forEach((button) => button.click())`);
    const viewport = page.viewportSize();
    if (fullPage && viewport) {
      // A window as tall as the page, rather than a stitched capture: the sticky sidebar stays whole.
      const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
      await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
    }
    await page.evaluate('window.scrollTo(0, 0)');
    await page.mouse.move(0, 0);
    // Let transitions, resizes and chart drawing settle.
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
    if (fullPage && viewport) await page.setViewportSize(viewport);
  }

  async function screenshotFailure(testName: string): Promise<void> {
    const name = testName.replace(/\W+/g, '-').slice(0, 60);
    for (const [i, entry] of watched.entries()) {
      await entry.page.screenshot({ path: join(SCREENSHOTS, `failed-${name}-${i}.png`) }).catch(() => undefined);
    }
  }

  async function stop(): Promise<void> {
    for (const entry of watched) await entry.context.close().catch(() => undefined);
    await browser.close();
    await gate.stop();
    await fake.close();
    await rm(outDir, { recursive: true, force: true });
  }

  return { fake, gate, browser, watched, open, shot, screenshotFailure, stop };
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
