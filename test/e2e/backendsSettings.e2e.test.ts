// Several ComfyUIs on the Settings page, in a real Chromium: the list of backends (address, label, weight),
// its checks beside each box, and what it saves for the next start.
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StartupSettings } from '../../server/settings/settingsSchema.js';
import { signIn, startDashboardHarness, type DashboardHarness } from '../helpers/dashboardBrowser.js';
import { call } from '../helpers/http.js';

/** The one console message a save the gate refuses causes. */
const EXPECTED_400 = 'Failed to load resource: the server responded with a status of 400 (Bad Request)';

let harness: DashboardHarness;

beforeAll(async () => {
  harness = await startDashboardHarness();
}, 60_000);

afterAll(() => harness?.stop());

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await harness.screenshotFailure(context.task.name);
});

/** The ComfyUI part of what is saved for the next start. */
async function saved(): Promise<Pick<StartupSettings, 'upstream' | 'upstreams'>> {
  const res = await call<{ saved: StartupSettings }>(`${harness.gate.url}/gate/api/settings/startup`, {
    headers: { 'x-api-key': harness.gate.adminKey },
  });
  const { upstream, upstreams } = res.body.saved;
  return { upstream, upstreams };
}

function connection(page: Page) {
  return page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Connection', exact: true }) });
}

/** One ComfyUI's row: `ComfyUI 2` among several, `ComfyUI` alone. */
function row(page: Page, name: string) {
  return connection(page).getByRole('group', { name, exact: true });
}

function address(page: Page, name: string) {
  return row(page, name).getByLabel(name === 'ComfyUI' ? 'ComfyUI address' : name, { exact: true });
}

describe('several ComfyUIs on the Settings page', () => {
  it('edits the list of backends with checks by field, saves it for the next start, and goes back to one', async () => {
    const { fake, gate } = harness;
    const admin = await harness.open();
    const { page } = admin;
    await page.goto(`${gate.url}/gate/login?next=/gate/`);
    await signIn(page, gate.adminKey);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page
      .getByRole('navigation', { name: 'Dashboard' })
      .getByRole('link', { name: 'Settings', exact: true })
      .click();
    const card = connection(page);
    await address(page, 'ComfyUI').waitFor();

    await address(page, 'ComfyUI').fill(fake.url);
    await card.getByRole('button', { name: 'Add a ComfyUI' }).click();
    await row(page, 'ComfyUI 1').getByLabel('Label').fill('4090 #0');
    await row(page, 'ComfyUI 1').getByLabel('Weight').fill('2');
    await address(page, 'ComfyUI 2').fill('http://127.0.0.1:8190/some/path');
    await row(page, 'ComfyUI 2').getByLabel('Weight').fill('0');
    await card.getByRole('button', { name: 'Add a ComfyUI' }).click();
    await card.getByRole('button', { name: 'Save' }).click();

    // The form's own checks: no request yet.
    await card.getByText('A number above 0 and up to 1000, or empty for 1').waitFor();
    await card.getByText('The ComfyUI’s address, or remove this row').waitFor();
    expect(await row(page, 'ComfyUI 2').getByLabel('Weight').getAttribute('aria-invalid')).toBe('true');
    await card.getByRole('button', { name: 'Remove ComfyUI 3' }).click();
    await row(page, 'ComfyUI 2').getByLabel('Weight').fill('');

    // The gate's check, shown beside the address it is about.
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByText(/expected an http\(s\) URL of the ComfyUI server/).waitFor();
    expect(await address(page, 'ComfyUI 2').getAttribute('aria-invalid')).toBe('true');
    // Chromium reports every 4xx answer to fetch on the console; this one was asked for.
    expect(admin.problems).toEqual([`error: ${EXPECTED_400}`]);
    admin.problems.length = 0;
    expect(await saved()).toEqual({ upstream: undefined, upstreams: undefined });

    await address(page, 'ComfyUI 2').fill('http://127.0.0.1:8190');
    await row(page, 'ComfyUI 2').getByLabel('Label').fill('4090 #1');
    await card.getByRole('button', { name: 'Save' }).click();
    await expect.poll(saved).toEqual({
      upstream: undefined,
      upstreams: [
        { url: fake.url, label: '4090 #0', weight: 2 },
        { url: 'http://127.0.0.1:8190', label: '4090 #1' },
      ],
    });
    await card.getByText('Restart the gate to apply the saved connection settings.').waitFor();
    await card.getByRole('button', { name: 'Test connection' }).click();
    await card.getByText('Nothing answers like ComfyUI at http://127.0.0.1:8190').waitFor();
    await harness.shot(page, 'settings-backends', true);

    await page.reload();
    await row(page, 'ComfyUI 2').getByLabel('Label').waitFor();
    expect(await address(page, 'ComfyUI 1').inputValue()).toBe(fake.url);
    expect(await row(page, 'ComfyUI 2').getByLabel('Label').inputValue()).toBe('4090 #1');

    await connection(page).getByRole('button', { name: 'Remove ComfyUI 2' }).click();
    // One ComfyUI with no label or weight is saved as the one address, as before.
    await row(page, 'ComfyUI').getByLabel('Label').fill('');
    await row(page, 'ComfyUI').getByLabel('Weight').fill('');
    await connection(page).getByRole('button', { name: 'Save' }).click();
    await expect.poll(saved).toEqual({ upstream: fake.url, upstreams: undefined });
    expect(admin.problems).toEqual([]);
  });
});
