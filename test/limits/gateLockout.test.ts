import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { gate } = withGateAndComfy({ gate: { mode: 'required' } });
/** A request from a second address on the loopback network, to show other addresses are unaffected. */
async function fromOther(path: string, key: string): Promise<number> {
  const answer = await rawExchange(
    Number(new URL(gate.url).port),
    `GET ${path} HTTP/1.1\r\nHost: ${gate.host}\r\nX-API-Key: ${key}\r\nConnection: close\r\n\r\n`,
    '127.0.0.2'
  );
  return Number(answer.slice(9, 12));
}

beforeAll(async () => {
  await call(`${gate.url}/gate/api/settings`, {
    method: 'PATCH',
    headers: { 'x-api-key': gate.adminKey },
    json: { lockout: { maxFailures: 3, windowMinutes: 5, lockoutMinutes: 1 } },
  });
});

describe('brute-force lockout', () => {
  it('locks an address after N wrong keys, even for a valid key; other addresses carry on', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call(`${gate.url}/api/prompt`, { headers: { 'x-api-key': `wrong-${i}` } })).status).toBe(401);
    }
    const locked = await call<{ error: { code: string; message: string } }>(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('locked_out');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
    // The login page and the admin API refuse too: guessing there pays no better.
    const login = await call(`${gate.url}/gate/login`, { json: { key: gate.adminKey } });
    expect(login.status).toBe(429);

    expect(await fromOther('/api/prompt', gate.adminKey)).toBe(200);
  });
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request from `ip` (another loopback address), so this lock does not touch the other tests. */
async function from(ip: string, method: string, path: string, headers: Record<string, string> = {}, body = '') {
  const head = Object.entries({
    host: gate.host,
    connection: 'close',
    'content-length': String(body.length),
    ...headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const answer = await rawExchange(
    Number(new URL(gate.url).port),
    `${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`,
    ip
  );
  const [top = '', rest = ''] = answer.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = top.split('\r\n');
  const parsed: RawAnswer = { status: Number(statusLine.slice(9, 12)), headers: {}, body: rest };
  for (const line of lines) {
    const colon = line.indexOf(':');
    parsed.headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return parsed;
}

function expectLockedJson(answer: RawAnswer): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['content-type']).toMatch(/application\/json/);
  expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'locked_out' } });
  expect(Number(answer.headers['retry-after'])).toBeGreaterThan(50);
}

function expectLockedPage(answer: RawAnswer): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['content-type']).toMatch(/text\/html/);
  expect(Number(answer.headers['retry-after'])).toBeGreaterThan(50);
  // When, as a time and as a wait, in the sign-in page's own look; no form to type into meanwhile.
  expect(answer.body).toMatch(/try again at <time datetime="[^"]+">\d{2}:\d{2}:\d{2} UTC<\/time>/);
  expect(answer.body).toMatch(/in (\d+ min )?\d+ s/);
  expect(answer.body).toContain('class="card"');
  expect(answer.body).not.toContain('<form');
}

describe('a locked-out address gets 429 on every request', () => {
  const ip = '127.0.0.4';

  it('login page, sign-in form, API and ComfyUI alike; pages say when to try again', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await from(ip, 'GET', '/api/queue', { 'x-api-key': `wrong-${i}` })).status).toBe(401);
    }
    const html = { accept: 'text/html,application/xhtml+xml' };
    expectLockedPage(await from(ip, 'GET', '/gate/login?next=%2F', html));
    expectLockedPage(await from(ip, 'GET', '/gate/login'));
    expectLockedPage(
      await from(ip, 'POST', '/gate/login', { 'content-type': 'application/x-www-form-urlencoded', ...html }, 'key=x')
    );
    expectLockedPage(await from(ip, 'GET', '/', html));
    expectLockedPage(await from(ip, 'GET', '/gate/', html));

    expectLockedJson(await from(ip, 'POST', '/gate/login', { 'content-type': 'application/json' }, '{"key":"x"}'));
    expectLockedJson(await from(ip, 'GET', '/api/queue'));
    expectLockedJson(await from(ip, 'GET', '/api/queue', { 'x-api-key': gate.adminKey }));
    expectLockedJson(await from(ip, 'GET', '/gate/api/whoami'));
    expectLockedJson(
      await from(ip, 'GET', '/ws?clientId=l', {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
      })
    );
    // Monitoring is not a guess: health still answers.
    expect((await from(ip, 'GET', '/gate/healthz')).status).toBe(200);
    expect(await fromOther('/api/queue', gate.adminKey)).toBe(200);
  });

  it('the failure that locks the address already shows the locked page', async () => {
    const other = '127.0.0.5';
    const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };
    expect((await from(other, 'POST', '/gate/login', form, 'key=wrong-1')).status).toBe(401);
    expect((await from(other, 'POST', '/gate/login', form, 'key=wrong-2')).status).toBe(401);
    expectLockedPage(await from(other, 'POST', '/gate/login', form, 'key=wrong-3'));
  });
});
