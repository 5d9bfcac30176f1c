import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { gate } = withGateAndComfy({ gate: { mode: 'required' } });

/** The value of one sample line of Prometheus text, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('/gate/metrics on a running gate', () => {
  it('moves with proxied traffic and refusals', async () => {
    const scrape = async () =>
      (await call(`${gate.url}/gate/metrics`, { headers: { 'x-api-key': gate.adminKey } })).text;
    const before = sample(await scrape(), 'comfygate_requests_total', 'status_class="2xx",route_class="read"') ?? 0;
    for (let i = 0; i < 3; i++) await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': gate.adminKey } });
    await call(`${gate.url}/api/prompt`);
    const text = await scrape();
    expect(sample(text, 'comfygate_requests_total', 'status_class="2xx",route_class="read"')).toBe(before + 3);
    expect(text).toMatch(/^comfygate_upstream_reachable 1$/m);
    expect(text).toMatch(/^comfygate_request_duration_seconds_bucket\{le="0\.001"\} \d+$/m);
  });

  it('accepts the metrics token from settings and refuses everyone else', async () => {
    const token = 'scraper-token-0123456789';
    await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { metricsToken: token },
    });
    expect((await call(`${gate.url}/gate/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200
    );
    expect(
      (await call(`${gate.url}/gate/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status
    ).toBe(401);
    expect((await call(`${gate.url}/gate/metrics`)).status).toBe(401);
  });
});
