// Issue 17 item 6 in a real Chromium: the teammate's page describes a guest key as it is, and when
// the key stops working the teammate lands on the sign-in page, which says why and what to do.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { EXPECTED_401, signIn, startDashboardHarness, type DashboardHarness } from '../helpers/dashboardBrowser.js';

let harness: DashboardHarness;

beforeAll(async () => {
  harness = await startDashboardHarness();
}, 120_000);

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await harness.screenshotFailure(context.task.name);
});

afterAll(async () => {
  await harness.stop();
});

function asAdmin(method: string, path: string, json?: unknown) {
  return call<{ id: string; key: string }>(`${harness.gate.url}${path}`, {
    method,
    headers: { 'x-api-key': harness.gate.adminKey },
    json,
  });
}

describe('the teammate’s view of their key', { timeout: 60_000 }, () => {
  it('a guest sees that they may generate within tight limits; once revoked, the sign-in page says why', async () => {
    const { url } = harness.gate;
    const created = await asAdmin('POST', '/gate/api/keys', { name: 'sam', preset: 'guest' });
    expect(created.status).toBe(201);
    const { id, key } = created.body;

    const teammate = await harness.open();
    const { page } = teammate;
    await page.goto(`${url}/gate/login?next=%2Fgate%2F`);
    await signIn(page, key);
    await page.getByRole('heading', { level: 1, name: 'Hello, sam' }).waitFor();

    const keyCard = page.getByRole('region', { name: 'Your key' });
    expect(await keyCard.getByText('Guest', { exact: true }).count()).toBe(1);
    await keyCard.getByText('A viewer that may also generate, within tight limits').waitFor();
    // The guest expires in 7 days: the page says so, and what to do before then.
    await keyCard
      .getByRole('status')
      .getByText(/^Your key expires in \d days? .*Ask the person who runs/)
      .waitFor();
    const limits = await page.getByRole('region', { name: 'Your limits' }).innerText();
    expect(limits).toMatch(/Prompts per day\s+20/i);
    expect(await page.locator('body').innerText()).not.toMatch(/cannot queue prompts/i);
    expect(await page.locator('.user-role').innerText()).toBe('Guest');
    await harness.shot(page, 'me-guest', true);

    const revoked = await asAdmin('PATCH', `/gate/api/keys/${id}`, { active: false });
    expect(revoked.status).toBe(200);
    // The open page notices on its next refresh of today's usage and goes to the sign-in page with the reason.
    await page.waitForURL(`${url}/gate/login?next=%2Fgate%2F%23%2Fme&reason=revoked`, { timeout: 30_000 });
    expect(await page.getByRole('alert').innerText()).toBe(
      'Your key was revoked (deactivated).\nAsk the person who runs this ComfyUI to activate it again or for a new key.'
    );
    await harness.shot(page, 'sign-in-revoked', true);
    expect(teammate.problems.filter((problem) => problem !== `error: ${EXPECTED_401}`)).toEqual([]);
    expect(teammate.outside).toEqual([]);
  });

  it('a teammate whose key was rotated is told to ask for the new key', async () => {
    const { url } = harness.gate;
    const created = await asAdmin('POST', '/gate/api/keys', { name: 'ines' });
    const teammate = await harness.open();
    const { page } = teammate;
    await page.goto(`${url}/gate/login?next=%2Fgate%2F`);
    await signIn(page, created.body.key);
    await page.getByRole('heading', { level: 1, name: 'Hello, ines' }).waitFor();

    await asAdmin('POST', `/gate/api/keys/${created.body.id}/rotate`);
    await page.reload();
    await page.waitForURL(/\/gate\/login\?next=.*&reason=rotated$/);
    expect(await page.getByRole('alert').innerText()).toBe(
      'Your key was replaced by a new one (rotated); the old one no longer works.\n' +
        'Ask the person who runs this ComfyUI for the new key, then sign in with it.'
    );
    expect(teammate.problems.filter((problem) => problem !== `error: ${EXPECTED_401}`)).toEqual([]);
  });
});
