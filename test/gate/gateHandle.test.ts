import { describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { gate } = withGateAndComfy({ gate: { mode: 'required' } });

describe('the gate handle the desktop app drives', () => {
  it('switches the mode and reports it in state and events', async () => {
    const seen: string[] = [];
    gate.events.on('mode', (mode) => seen.push(mode));
    await gate.setMode('optional');
    expect(gate.state.mode).toBe('optional');
    expect((await call(`${gate.url}/api/prompt`)).status).toBe(200);
    await gate.setMode('required');
    expect(seen).toEqual(['optional', 'required']);
  });

  it('pauses sharing and resumes it, telling listeners', async () => {
    const seen: boolean[] = [];
    gate.events.on('paused', (paused) => seen.push(paused));
    gate.setPaused(true);
    expect(gate.state.paused).toBe(true);
    // This machine still gets through; other addresses are refused (see pipeline/pauseStep.unit.test.ts).
    expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': gate.adminKey } })).status).toBe(200);
    gate.setPaused(false);
    expect(seen).toEqual([true, false]);
  });

  it('mints an owner session for the desktop window from a key kept for this machine', async () => {
    const first = await gate.ownerSession();
    const second = await gate.ownerSession();
    const cookie = `${first.cookieName}=${first.value}`;
    const whoami = await call<{ role: string; name: string }>(`${gate.url}/gate/api/whoami`, { headers: { cookie } });
    expect(whoami.body).toMatchObject({ role: 'admin', name: 'This computer (desktop app)' });
    expect(second.value).not.toBe(first.value);
    const owners = (
      await call<Array<{ name: string }>>(`${gate.url}/gate/api/keys`, { headers: { cookie } })
    ).body.filter((k) => k.name === 'This computer (desktop app)');
    expect(owners).toHaveLength(1);
    expect(gate.state).toMatchObject({
      keys: 2,
      listen: { host: '127.0.0.1' },
      requestsToday: expect.any(Number) as number,
    });
  });
});
