import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeSettings } from '../../server/settings/settingsSchema.js';
import { LockedJsonFile } from '../../server/store/lockedJsonFile.js';
import { USAGE_FILE, emptyDayUsage, usageFileSchema, type UsageFile } from '../../server/usage/usageSchema.js';
import type { FakeComfy } from '../fixtures/fakeComfy/index.js';
import {
  EXPECTED_401,
  signIn,
  startDashboardHarness,
  type DashboardHarness,
  type Watched,
} from '../helpers/dashboardBrowser.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import type { TestGate } from '../helpers/testGate.js';

/** The one console message the settings' validation check causes: the gate answered 400. */
const EXPECTED_400 = 'Failed to load resource: the server responded with a status of 400 (Bad Request)';

/** The console message the refused sharing switch causes: the gate answered 409. */
const EXPECTED_409 = 'Failed to load resource: the server responded with a status of 409 (Conflict)';

let harness: DashboardHarness;
let fake: FakeComfy;
let gate: TestGate;

interface KeyAnswer {
  id: string;
  key: string;
  name: string;
}

function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name, exact: true });
}

async function goTo(page: Page, name: string): Promise<void> {
  await nav(page, name).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

function asAdmin<T>(method: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });
}

function withKey(key: string | undefined, path = '/api/queue') {
  return call(`${gate.url}${path}`, { headers: key ? { 'x-api-key': key } : {} });
}

/** Two weeks of earlier usage, so the charts have a shape (today's numbers all come from real requests). */
async function seedHistory(dataDir: string, keyIds: string[]): Promise<void> {
  const file = await LockedJsonFile.open<UsageFile>({
    file: join(dataDir, USAGE_FILE),
    schema: usageFileSchema,
    defaults: () => ({ version: 1, days: {} }),
  });
  const day = (offset: number): string => {
    const d = new Date();
    d.setDate(d.getDate() - offset);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  await file.update((draft) => {
    for (let offset = 13; offset >= 1; offset--) {
      const byKey: UsageFile['days'][string] = {};
      [...keyIds, 'anonymous'].forEach((keyId, k) => {
        const requests = Math.round((k === 3 ? 20 : 180 / (k + 1)) * (1.2 + Math.sin(offset / 2 + k)));
        const usage = emptyDayUsage();
        usage.requests = requests;
        usage.prompts = Math.round(requests / 9);
        usage.errors = Math.round(requests * (offset % 4 === 0 ? 0.08 : 0.02));
        usage.byStatus['2xx'] = requests - usage.errors;
        usage.byStatus['4xx'] = usage.errors;
        usage.bytesIn = requests * 900;
        usage.bytesOut = requests * 52_000;
        usage.totalDurationMs = requests * 35;
        usage.maxDurationMs = 400;
        usage.byRouteClass.read = requests - usage.prompts;
        usage.byRouteClass.generate = usage.prompts;
        usage.gpuSeconds = usage.prompts * 14.5;
        byKey[keyId] = usage;
      });
      draft.days[day(offset)] = byKey;
    }
  });
  await file.close();
}

beforeAll(async () => {
  harness = await startDashboardHarness();
  ({ fake, gate } = harness);
}, 60_000);

afterAll(() => harness?.stop());

afterEach(async (context) => {
  // What the browser showed when a step failed.
  if (context.task.result?.state === 'fail') await harness.screenshotFailure(context.task.name);
});

describe('the dashboard in a real browser', () => {
  let admin: Watched;
  let adminState: string;
  let bob: KeyAnswer;
  let carol: KeyAnswer;
  let aliceKey: string;

  it('serves /gate/ and /gate/me as the dashboard page, with its CSP', async () => {
    for (const path of ['/gate/', '/gate/me']) {
      const res = await call(`${gate.url}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(200);
      expect(res.text).toContain('<div id="root">');
      expect(res.text).toContain("default-src 'self'");
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('signs the admin in through the login page and shows the overview', async () => {
    // Some traffic first, so the pages have something to show.
    bob = (await asAdmin<KeyAnswer>('POST', '/gate/api/keys', { name: 'bob', preset: 'creator' })).body;
    carol = (await asAdmin<KeyAnswer>('POST', '/gate/api/keys', { name: 'carol (render box)', preset: 'guest' })).body;
    await seedHistory(gate.dataDir, [bob.id, carol.id]);
    for (const path of ['/api/queue', '/api/object_info', '/api/history', '/api/system_stats']) {
      expect((await withKey(bob.key, path)).status).toBe(200);
    }
    const prompt = await call(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': bob.key },
      json: { prompt: SMALL_PROMPT },
    });
    expect(prompt.status).toBe(200);
    expect((await withKey(carol.key, '/api/view?filename=missing.png&type=output')).status).toBe(404);
    expect((await withKey(undefined)).status).toBe(401);

    admin = await harness.open();
    const { page } = admin;
    await page.goto(`${gate.url}/gate/login?next=/gate/`);
    await page.getByLabel('API key').waitFor();
    await harness.shot(page, 'login');
    await signIn(page, gate.adminKey);
    await page.waitForURL(`${gate.url}/gate/`);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByText('Reachable', { exact: true }).waitFor();
    await page.locator('.recent-list li').first().waitFor();
    expect(await page.locator('.metric-value').first().innerText()).not.toBe('0');
    await harness.shot(page, 'overview');
    adminState = JSON.stringify(await admin.context.storageState());

    const dark = await harness.open({ colorScheme: 'dark', storageState: adminState });
    await dark.page.goto(`${gate.url}/gate/`);
    await dark.page.getByText('Reachable', { exact: true }).waitFor();
    await dark.page.locator('.recent-list li').first().waitFor();
    await harness.shot(dark.page, 'overview-dark');
  });

  it('creates a key in the New key dialog and shows it once, with a share card', async () => {
    const { page } = admin;
    await goTo(page, 'Keys');
    await page.locator('tr[data-key-id]').first().waitFor();
    await page.getByRole('button', { name: 'New key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New key' });
    await dialog.getByLabel('Name').fill('alice');
    await dialog.getByLabel('Note').fill('laptop, studio');
    await dialog.getByText('Creator', { exact: true }).click();
    await dialog.getByLabel('Prompts per day').fill('200');
    await harness.shot(page, 'keys-new');
    await dialog.getByRole('button', { name: 'Create key' }).click();

    const secret = page.getByRole('dialog', { name: 'Key for alice is ready' });
    await secret.waitFor();
    aliceKey = await secret.getByLabel('API key', { exact: true }).innerText();
    expect(aliceKey).toMatch(/^cgk_[0-9A-Za-z]{40,}$/);
    const share = secret.locator('.share-card');
    expect(await share.innerText()).toContain(`curl -H "X-API-Key: ${aliceKey}" ${gate.url}/api/queue`);
    expect(await share.innerText()).toContain(`requests.get("${gate.url}/api/queue"`);
    expect(await share.innerText()).toContain(`await fetch("${gate.url}/api/queue"`);
    expect(await share.getByRole('img').getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    await harness.shot(page, 'keys-share-card');
    await page.keyboard.press('Escape');
    await secret.waitFor({ state: 'detached' });

    const row = page.locator('tr', { hasText: 'alice' });
    await row.waitFor();
    expect(await row.innerText()).toContain('200 prompts/day');
    // Search narrows the table.
    await page.getByLabel('Search keys').fill('bob');
    await expect.poll(() => page.locator('tr[data-key-id]').count()).toBe(1);
    await page.getByLabel('Search keys').fill('');
    await harness.shot(page, 'keys');
  });

  it('edits a key in the same form: a bad limit is named beside its box, a good one is saved', async () => {
    const { page } = admin;
    const row = page.locator('tr', { hasText: 'alice' });
    await row.getByRole('button', { name: 'Edit alice' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit alice' });
    expect(await dialog.getByLabel('Name').inputValue()).toBe('alice');
    expect(await dialog.getByLabel('Prompts per day').inputValue()).toBe('200');
    await dialog.getByLabel('Prompts per day').fill('0');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByText('A whole number of 1 or more, or empty for unlimited').waitFor();
    await dialog.getByLabel('Prompts per day').fill('300');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => row.innerText()).toContain('300 prompts/day');
  });

  it('shows a request made with the new key live in Logs and counts it in Usage', async () => {
    const { page } = admin;
    await goTo(page, 'Logs');
    await page.getByText('Live', { exact: true }).waitFor();
    expect((await withKey(aliceKey, '/api/queue')).status).toBe(200);
    const row = page.locator('tbody tr').filter({ hasText: 'alice' }).filter({ hasText: '/queue' });
    await row.waitFor({ timeout: 5_000 });
    await harness.shot(page, 'logs');

    // Paused, new requests wait; resumed, they appear.
    await page.getByRole('button', { name: 'Pause' }).click();
    expect((await withKey(aliceKey, '/api/history')).status).toBe(200);
    await page.getByRole('button', { name: 'Resume (1 new)' }).waitFor();
    expect(await page.locator('tbody tr', { hasText: '/history' }).filter({ hasText: 'alice' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume (1 new)' }).click();
    await page.locator('tbody tr', { hasText: '/history' }).filter({ hasText: 'alice' }).waitFor();

    // The detail drawer opens from the row's button and closes on Escape.
    await row.getByRole('button').click();
    const drawer = page.getByRole('dialog', { name: /GET \/queue/ });
    await drawer.waitFor();
    expect(await drawer.innerText()).toContain('alice');
    await harness.shot(page, 'logs-detail');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });

    await goTo(page, 'Usage');
    const top = page.locator('table.table tr', { hasText: 'alice' });
    await top.waitFor();
    expect(Number((await top.locator('td').nth(1).innerText()).replace(/\D/g, ''))).toBeGreaterThanOrEqual(1);
    await page.locator('.chart canvas').first().waitFor();
    await page.getByRole('region', { name: 'GPU minutes per day · top keys' }).locator('.chart canvas').waitFor();
    await harness.shot(page, 'usage', true);
  });

  it('switches protection from the overview, and the gate obeys at once', async () => {
    const { page } = admin;
    await goTo(page, 'Overview');
    expect((await withKey(undefined)).status).toBe(401);
    await page.getByText('Optional', { exact: true }).click();
    await page.getByText('Protection is now optional').waitFor();
    expect((await withKey(undefined)).status).toBe(200);
    expect((await withKey('cgk_wrong')).status).toBe(401);
    await page.getByText('Required', { exact: true }).click();
    await page.getByText('Protection is now required').waitFor();
    expect((await withKey(undefined)).status).toBe(401);
  });

  it('offers the sharing switch beside the share link, and shows why an unprotected gate is not shared', async () => {
    const { page } = admin;
    await goTo(page, 'Overview');
    const sharing = page.getByRole('group', { name: 'Who can connect' });
    await sharing.getByText('This computer only', { exact: true }).waitFor();
    expect(await sharing.getByRole('radio', { name: /This computer only/ }).isChecked()).toBe(true);
    await gate.setMode('off');
    try {
      await sharing.getByText('My network', { exact: true }).click();
      await sharing
        .getByRole('alert')
        .getByText(/protection off.*Turn protection on/)
        .waitFor();
      expect(gate.state).toMatchObject({ network: false, listen: { host: '127.0.0.1' } });
      expect(await sharing.getByRole('radio', { name: /This computer only/ }).isChecked()).toBe(true);
      // The refusal is the one console message this causes.
      expect(admin.problems).toEqual([`error: ${EXPECTED_409}`]);
      admin.problems.length = 0;
    } finally {
      await gate.setMode('required');
    }
  });

  it('rotates and deactivates a key: the old secret is refused at once', async () => {
    const { page } = admin;
    await goTo(page, 'Keys');
    await page.getByRole('button', { name: 'Rotate alice' }).click();
    await page.getByRole('dialog', { name: 'Rotate alice?' }).getByRole('button', { name: 'Rotate key' }).click();
    const secret = page.getByRole('dialog', { name: 'New secret for alice' });
    await secret.waitFor();
    const rotated = await secret.getByLabel('API key', { exact: true }).innerText();
    expect(rotated).not.toBe(aliceKey);
    expect((await withKey(aliceKey)).status).toBe(401);
    expect((await withKey(rotated)).status).toBe(200);
    await secret.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'Deactivate alice' }).click();
    await page.getByRole('dialog', { name: 'Deactivate alice?' }).getByRole('button', { name: 'Deactivate' }).click();
    await page.locator('tr', { hasText: 'alice' }).getByText('Inactive').waitFor();
    expect((await withKey(rotated)).status).toBe(401);
  });

  it('lists the changes in Audit and validates settings inline', async () => {
    const { page } = admin;
    await goTo(page, 'Audit');
    await page.locator('tbody').getByText('Key rotated').first().waitFor();
    await harness.shot(page, 'audit');

    await goTo(page, 'Settings');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(`ComfyUI answers at ${fake.url}`).waitFor();
    const retention = page.getByLabel('Keep usage for (days)');
    await retention.fill('0');
    await retention.press('Enter');
    await page.getByText(/expected number to be >=1/).waitFor();
    expect(await retention.getAttribute('aria-invalid')).toBe('true');
    // Chromium reports every 4xx answer to fetch on the console; this one was asked for.
    expect(admin.problems).toEqual([`error: ${EXPECTED_400}`]);
    admin.problems.length = 0;
    await retention.fill('90');
    expect(await retention.getAttribute('aria-invalid')).toBeNull();
    await harness.shot(page, 'settings', true);
  });

  it('turns team isolation off and on again in Settings, and keeps the choice when a save fails', async () => {
    const { page } = admin;
    const isolation = async (): Promise<boolean> =>
      (await asAdmin<RuntimeSettings>('GET', '/gate/api/settings')).body.isolation;
    await goTo(page, 'Settings');
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Sharing safely' }) });
    const toggle = section.getByLabel('Team isolation');
    const saveButton = section.getByRole('button', { name: 'Save' });
    expect(await isolation()).toBe(true);
    expect(await toggle.isChecked()).toBe(true);
    expect(await section.innerText()).toContain('Applies only while protection is Optional or Required.');
    expect(await section.innerText()).toContain(
      'Without ComfyUI’s --multi-user, teammates share saved workflows (each may change only their own; the gate keeps each one’s settings apart); start ComfyUI with --multi-user to give each their own workflows.'
    );
    expect(await saveButton.isDisabled()).toBe(true);
    await harness.shot(page, 'settings-isolation', true);

    // A failed save shows the gate's message and keeps the unticked box, ready to save again.
    await page.route(`${gate.url}/gate/api/settings`, (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'upstream_unreachable', message: 'The gate is busy' } }),
          })
        : route.fallback()
    );
    await toggle.uncheck();
    await saveButton.click();
    await section.getByRole('alert').getByText('The gate is busy').waitFor();
    expect(await toggle.isChecked()).toBe(false);
    expect(await saveButton.isDisabled()).toBe(false);
    expect(await isolation()).toBe(true);
    expect(admin.problems).toEqual([
      'error: Failed to load resource: the server responded with a status of 503 (Service Unavailable)',
    ]);
    admin.problems.length = 0;
    await page.unroute(`${gate.url}/gate/api/settings`);

    await saveButton.click();
    await expect.poll(isolation).toBe(false);
    await expect.poll(() => saveButton.isDisabled()).toBe(true);
    expect(await toggle.isChecked()).toBe(false);
    expect(await section.getByRole('alert').count()).toBe(0);

    // With protection off the note says isolation waits for a mode that checks keys.
    const modes = page.getByRole('group', { name: 'Protection mode' });
    await modes.getByText('Off', { exact: true }).click();
    await section.getByText(/Protection is off, so everyone sees every prompt/).waitFor();
    await modes.getByText('Required', { exact: true }).click();
    await page.getByText('Protection is now required').waitFor();
    expect(await section.getByRole('status').count()).toBe(0);

    await toggle.check();
    await saveButton.click();
    await expect.poll(isolation).toBe(true);
    await expect.poll(() => saveButton.isDisabled()).toBe(true);
    expect(await toggle.isChecked()).toBe(true);

    // Files of no known owner: hidden by default, shown once ticked and saved.
    const unowned = section.getByLabel('Show files of no known owner');
    const unownedFiles = async (): Promise<string> =>
      (await asAdmin<RuntimeSettings>('GET', '/gate/api/settings')).body.unownedFiles;
    expect(await unowned.isChecked()).toBe(false);
    await unowned.check();
    await saveButton.click();
    await expect.poll(unownedFiles).toBe('visible');
    await unowned.uncheck();
    await saveButton.click();
    await expect.poll(unownedFiles).toBe('hidden');
    await harness.shot(page, 'settings-isolation', true);
  });

  it('switches one desktop notification off in Settings and on again', async () => {
    const { page } = admin;
    const notifications = async (): Promise<RuntimeSettings['notifications']> =>
      (await asAdmin<RuntimeSettings>('GET', '/gate/api/settings')).body.notifications;
    await goTo(page, 'Settings');
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Notifications' }) });
    const firstUse = section.getByLabel('A key is used for the first time');
    const saveButton = section.getByRole('button', { name: 'Save' });
    for (const label of [
      'ComfyUI stops answering, and when it is back',
      'A key is used for the first time',
      'An address is locked out',
      'A key reaches its prompts-per-day limit',
    ]) {
      expect(await section.getByLabel(label).isChecked(), label).toBe(true);
    }
    await firstUse.uncheck();
    await saveButton.click();
    await expect.poll(notifications).toEqual({ comfyDown: true, firstUse: false, lockout: true, quota: true });
    await expect.poll(() => saveButton.isDisabled()).toBe(true);
    await firstUse.check();
    await saveButton.click();
    await expect.poll(notifications).toEqual({ comfyDown: true, firstUse: true, lockout: true, quota: true });
  });

  it('sends a teammate through the login page to ComfyUI, and shows them /gate/me', async () => {
    const teammate = await harness.open();
    const { page } = teammate;
    // ComfyUI's own address without a session: the gate's login page, then ComfyUI itself.
    await page.goto(`${gate.url}/`);
    await page.waitForURL(/\/gate\/login\?next=/);
    await signIn(page, bob.key);
    await page.waitForURL(`${gate.url}/`);
    expect(await page.title()).toBe('ComfyUI');

    await page.goto(`${gate.url}/gate/me`);
    await page.getByRole('heading', { level: 1, name: 'Hello, bob' }).waitFor();
    expect(page.url()).toBe(`${gate.url}/gate/#/me`);
    expect(await page.getByRole('navigation', { name: 'Dashboard' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Mint a token' }).click();
    const token = await page.getByLabel('access token', { exact: true }).innerText();
    expect((await withKey(undefined, `/api/queue?token=${encodeURIComponent(token)}`)).status).toBe(200);
    await harness.shot(page, 'me', true);

    // The admin pages are not theirs.
    await page.goto(`${gate.url}/gate/#/keys`);
    await page.waitForURL(`${gate.url}/gate/#/me`);
    await page.getByRole('heading', { level: 1, name: 'Hello, bob' }).waitFor();

    // Opening ComfyUI keeps the session: no login page in between.
    await page.getByRole('main').getByRole('link', { name: 'Open ComfyUI' }).click();
    await page.waitForURL(`${gate.url}/`);
    expect(await page.title()).toBe('ComfyUI');
  });

  it('sends a signed-out visitor to the login page and back to the page they asked for', async () => {
    const visitor = await harness.open();
    const { page } = visitor;
    await page.goto(`${gate.url}/gate/#/audit`);
    await page.waitForURL(/\/gate\/login\?next=%2Fgate%2F%23%2Faudit$/);
    await signIn(page, gate.adminKey);
    await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    expect(visitor.problems).toEqual([`error: ${EXPECTED_401}`]);
    visitor.problems.length = 0;
  });

  it('logged no console error or warning and made no request outside the gate', () => {
    for (const entry of harness.watched) {
      expect(entry.problems).toEqual([]);
      expect(entry.outside).toEqual([]);
    }
  });
});
