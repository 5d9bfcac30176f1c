// The GPU share in the dashboard, in a real Chromium: role defaults and cap input names on Settings,
// a key with generation caps made through the New key form, and the cap at work on POST /prompt.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PublicKeyRecord } from '../../server/keys/keySchema.js';
import type { RuntimeSettings } from '../../server/settings/settingsSchema.js';
import {
  SCREENSHOTS,
  signIn,
  startDashboardHarness,
  type DashboardHarness,
  type Watched,
} from '../helpers/dashboardBrowser.js';
import { call } from '../helpers/http.js';
import type { TestGate } from '../helpers/testGate.js';

let harness: DashboardHarness;
let gate: TestGate;

beforeAll(async () => {
  harness = await startDashboardHarness();
  ({ gate } = harness);
}, 60_000);

afterAll(() => harness?.stop());

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await harness.screenshotFailure(context.task.name);
});

function asAdmin<T>(method: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { method, headers: { 'x-api-key': gate.adminKey }, json });
}

async function goTo(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** A Settings card by its heading. */
function card(page: Page, title: string) {
  return page.locator('section', { has: page.getByRole('heading', { level: 2, name: title, exact: true }) });
}

describe('the GPU share in the dashboard', () => {
  let admin: Watched;

  it('saves role defaults and cap input names on the Settings page', async () => {
    admin = await harness.open();
    const { page } = admin;
    await page.goto(`${gate.url}/gate/login?next=/gate/`);
    await signIn(page, gate.adminKey);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await goTo(page, 'Settings');

    const roles = card(page, 'Role defaults');
    const creator = roles.getByRole('group', { name: 'Creator' });
    await creator.getByLabel('Sampler steps').fill('40');
    await creator.getByLabel('Queue weight').fill('2');
    await roles.getByRole('group', { name: 'Viewer' }).getByLabel('Batch size').fill('1.5');
    await roles.getByRole('button', { name: 'Save' }).click();
    await roles.getByText('A whole number of 1 or more, or empty for none').waitFor();
    await roles.getByRole('group', { name: 'Viewer' }).getByLabel('Batch size').fill('');
    await roles.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(async () => (await asAdmin<RuntimeSettings>('GET', '/gate/api/settings')).body.roleLimits.creator)
      .toEqual({ maxSteps: 40, weight: 2 });

    const caps = card(page, 'Generation cap inputs');
    expect(await caps.getByLabel('Frame count inputs').inputValue()).toBe(
      'length, frames, num_frames, video_frames, frame_count'
    );
    await caps.getByLabel('Steps inputs').fill('steps, num_inference_steps');
    await caps.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(async () => (await asAdmin<RuntimeSettings>('GET', '/gate/api/settings')).body.capInputs.steps)
      .toEqual(['steps', 'num_inference_steps']);
    await roles.scrollIntoViewIfNeeded();
    await roles.screenshot({ path: join(SCREENSHOTS, 'settings-role-defaults.png') });
  });

  it('creates a key with caps through the New key form, the role default shown in the empty boxes', async () => {
    const { page } = admin;
    await goTo(page, 'Keys');
    await page.getByRole('button', { name: 'New key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New key' });
    await dialog.getByLabel('Name').fill('render box');
    await dialog.getByText('Creator', { exact: true }).click();
    const share = dialog.getByRole('group', { name: 'GPU share' });
    await expect.poll(() => share.getByLabel('Sampler steps').getAttribute('placeholder')).toBe('Role default: 40');
    expect(await share.getByLabel('Queue weight').getAttribute('placeholder')).toBe('Role default: 2');
    expect(await share.getByLabel('Image area').getAttribute('placeholder')).toBe('Unlimited');
    await share.getByLabel('Sampler steps').fill('30');
    await share.getByLabel('Queue weight').fill('1.5');
    await share.getByLabel('GPU seconds per day').fill('600');
    await share.getByLabel('Image area').fill('1048576');
    await harness.shot(page, 'keys-new-gpu-share');
    await dialog.getByRole('button', { name: 'Create key' }).click();

    const secret = page.getByRole('dialog', { name: 'Key for render box is ready' });
    await secret.waitFor();
    const key = await secret.getByLabel('API key', { exact: true }).innerText();
    await page.keyboard.press('Escape');
    await secret.waitFor({ state: 'detached' });

    const row = page.locator('tr', { hasText: 'render box' });
    await row.waitFor();
    expect(await row.innerText()).toContain('30 steps max');
    const keys = await asAdmin<PublicKeyRecord[]>('GET', '/gate/api/keys');
    const record = keys.body.find((k) => k.name === 'render box');
    expect(record?.limits).toMatchObject({ maxSteps: 30, weight: 1.5, gpuSecondsPerDay: 600, maxPixels: 1048576 });

    const refused = await call<{ node_errors: Record<string, unknown> }>(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': key },
      json: { prompt: { '3': { class_type: 'KSampler', inputs: { steps: 31 } } } },
    });
    expect(refused.status).toBe(400);
    expect(Object.keys(refused.body.node_errors)).toEqual(['3']);
    expect(admin.problems).toEqual([]);
  });
});
