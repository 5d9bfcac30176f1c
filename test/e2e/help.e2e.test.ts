import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPECTED_401,
  SCREENSHOTS,
  signIn,
  startDashboardHarness,
  type DashboardHarness,
} from '../helpers/dashboardBrowser.js';
import { call } from '../helpers/http.js';
import type { TestGate } from '../helpers/testGate.js';

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
/** The teammate's own, short help: no internals. */
const TEAMMATE_SECTIONS = [
  'Signing in',
  'Using your key in scripts',
  'What your limits mean',
  'If something does not work',
];
/** A phone held upright. */
const NARROW = { width: 390, height: 844 };
const ERROR_CODES = [
  'unauthorized',
  'forbidden_scope',
  'forbidden_origin',
  'rate_limit_minute',
  'rate_limit_hour',
  'rate_limit_prompts_day',
  'queue_limit',
  'generation_cap',
  'gpu_quota',
  'locked_out',
  'upstream_unreachable',
  'upstream_timeout',
];

let harness: DashboardHarness;
let gate: TestGate;

/** The h2 of every help section, in order. */
async function sectionTitles(page: Page): Promise<string[]> {
  return page.locator('main section.help-section h2').allInnerTexts();
}

/** Whether the page scrolls sideways: it must not, whatever a table or code block holds. */
async function overflowsSideways(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate<{ scrollWidth: number; clientWidth: number }>(
    '({ scrollWidth: document.scrollingElement.scrollWidth, clientWidth: document.scrollingElement.clientWidth })'
  );
}

async function mainTextLength(page: Page): Promise<number> {
  return (await page.locator('main').innerText()).length;
}

function section(page: Page, title: string) {
  return page.getByRole('region', { name: title, exact: true });
}

beforeAll(async () => {
  harness = await startDashboardHarness();
  gate = harness.gate;
}, 60_000);

afterAll(() => harness?.stop());

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await harness.screenshotFailure(context.task.name);
});

describe('the help page in a real browser', () => {
  it('opens from the admin navigation with every section and examples built from the gate’s own origin', async () => {
    const { page } = await harness.open({ clipboard: true });
    await page.goto(`${gate.url}/gate/login?next=/gate/`);
    await signIn(page, gate.adminKey);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Help', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Help' }).waitFor();
    expect(page.url()).toBe(`${gate.url}/gate/#/help`);
    expect(await page.title()).toBe('Help · ComfyGate');
    expect(await sectionTitles(page)).toEqual(ALL_SECTIONS);
    await harness.shot(page, 'help');
    await harness.shot(page, 'help-full', true);

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
    expect(sharing).toContain('comfygate share on');
    expect(sharing).toContain('My network');
    expect(sharing).toContain('SHA-256 fingerprint');
    expect(sharing).toContain('--allow-unprotected');
    expect(sharing).toContain('403 forbidden_origin');
    const limits = await section(page, 'Limits').innerText();
    expect(limits).toContain('Retry-After');
    expect(limits).toContain('RateLimit-Policy');
    expect(limits).toContain('--preset guest');
    const cli = await section(page, 'Command line').innerText();
    for (const command of [
      'comfygate serve',
      'keys create',
      'keys update KEY',
      'keys rotate KEY',
      'comfygate status',
      'auth [off|optional|required]',
    ]) {
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

    const teammate = await harness.open({ clipboard: true });
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
    expect(await section(page, 'Signing in').getByLabel('gate address', { exact: true }).innerText()).toBe(
      `${gate.url}/`
    );
    const scripts = await section(page, 'Using your key in scripts').innerText();
    expect(scripts).toContain(`curl -H "X-API-Key: <your key>" ${gate.url}/api/queue`);
    expect(scripts).toContain(`requests.get("${gate.url}/api/queue", headers={"X-API-Key": "<your key>"})`);
    const limits = await section(page, 'What your limits mean').innerText();
    expect(limits).toContain('Your key is Creator');
    expect(limits).toContain('Retry-After');
    const answers = section(page, 'If something does not work');
    expect(await answers.locator('dt', { hasText: 'upstream_unreachable' }).innerText()).toBe(
      '502 upstream_unreachable'
    );
    expect(await answers.locator('dl > div', { hasText: 'upstream_unreachable' }).innerText()).toContain(
      'Tell whoever runs the gate'
    );
    // No internals: nothing about the gate's settings, files, command line or how isolation works.
    const text = await page.locator('main').innerText();
    for (const internal of [
      'Settings',
      'settings.json',
      'comfygate ',
      '/gate/api/settings',
      'Team isolation',
      'manage',
    ]) {
      expect(text, internal).not.toContain(internal);
    }
    await harness.shot(page, 'help-teammate', true);

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

  it('both helps read at 390 px without scrolling sideways, and the teammate’s is a fraction of the operator’s', async () => {
    const carol = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
      method: 'POST',
      headers: { 'x-api-key': gate.adminKey },
      json: { name: 'carol', preset: 'guest' },
    });
    expect(carol.status).toBe(201);
    const lengths: Record<string, number> = {};
    for (const [who, key] of [
      ['operator', gate.adminKey],
      ['teammate', carol.body.key],
    ] as const) {
      const opened = await harness.open();
      const { page } = opened;
      await page.setViewportSize(NARROW);
      await page.goto(`${gate.url}/gate/login?next=${encodeURIComponent('/gate/#/help')}`);
      await signIn(page, key);
      await page.getByRole('heading', { level: 1, name: 'Help' }).waitFor();
      opened.problems.length = 0;
      const { scrollWidth, clientWidth } = await overflowsSideways(page);
      expect(scrollWidth, `${who}: page width ${scrollWidth} in a ${clientWidth} px window`).toBeLessThanOrEqual(
        clientWidth
      );
      // Wide content scrolls inside its own box, and every box fits the window.
      const widest = await page.evaluate<number>(
        `Math.max(...[...document.querySelectorAll('main section, main pre, main .table-wrap')].map((e) => e.getBoundingClientRect().right))`
      );
      expect(widest, who).toBeLessThanOrEqual(clientWidth);
      lengths[who] = await mainTextLength(page);
      await harness.shot(page, `help-390-${who}`);
      // Whole-page captures of a long page are too tall to look at; the sections with tables and code are kept apart.
      const wide =
        who === 'operator'
          ? ['Roles and what they may do', 'Command line', 'When something goes wrong']
          : TEAMMATE_SECTIONS;
      for (const [i, title] of wide.entries()) {
        await section(page, title).screenshot({ path: join(SCREENSHOTS, `help-390-${who}-${i + 1}.png`) });
      }
    }
    expect(lengths['teammate']).toBeLessThan((lengths['operator'] ?? 0) / 3);
  });

  it('logged no console error or warning and made no request outside the gate', () => {
    for (const entry of harness.watched) {
      expect(entry.problems).toEqual([]);
      expect(entry.outside).toEqual([]);
    }
  });
});
