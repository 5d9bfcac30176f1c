import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { forwardedFrom } from '../../server/http/forwardedHeaders.js';
import { TrustedProxies } from '../../server/http/trustedProxies.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { rawExchange } from '../helpers/raw.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';

const { fake, gate } = withGateAndComfy({ gate: { mode: 'required' } });

/** What a TLS-terminating proxy in front of the gate (Caddy, nginx) adds for a browser at https://gate.example. */
const FROM_HTTPS_PROXY = {
  origin: 'https://gate.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'gate.example',
};

async function setTrustProxy(list: string[]): Promise<void> {
  const res = await call(`${gate.url}/gate/api/settings`, {
    method: 'PATCH',
    headers: { 'x-api-key': gate.adminKey },
    json: { trustProxy: list },
  });
  expect(res.status, res.text).toBe(200);
}

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** One request from another loopback address (127.0.0.2): a peer that is not in trustProxy. */
async function fromUntrustedPeer(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = ''
): Promise<RawAnswer> {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${headers['host'] ?? gate.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) if (name !== 'host') lines.push(`${name}: ${value}`);
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const answer = await rawExchange(Number(new URL(gate.url).port), `${lines.join('\r\n')}\r\n\r\n${body}`, '127.0.0.2');
  const split = answer.indexOf('\r\n\r\n');
  return { status: Number(answer.slice(9, 12)), head: answer.slice(0, split), body: answer.slice(split + 4) };
}

function postPrompt(headers: Record<string, string>) {
  return call(`${gate.url}/api/prompt`, {
    headers: { 'x-api-key': gate.adminKey, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ prompt: SMALL_PROMPT }),
  });
}

describe('trustProxy setting', () => {
  it('is off by default and takes addresses and CIDR ranges, refusing anything else with a message', async () => {
    const initial = await call<{ trustProxy: string[] }>(`${gate.url}/gate/api/settings`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(initial.body.trustProxy).toEqual([]);

    await setTrustProxy(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
    const saved = await call<{ trustProxy: string[] }>(`${gate.url}/gate/api/settings`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(saved.body.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);

    for (const bad of ['gate.example', '10.0.0.0/33', '300.1.1.1', '']) {
      const res = await call<{ error: { code: string; message: string } }>(`${gate.url}/gate/api/settings`, {
        method: 'PATCH',
        headers: { 'x-api-key': gate.adminKey },
        json: { trustProxy: [bad] },
      });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.message).toContain('trustProxy');
    }
    await setTrustProxy([]);
  });
});

describe('behind a TLS-terminating proxy', () => {
  it("accepts the browser's https origin from a trusted proxy only (ComfyUI routes and the admin API)", async () => {
    await setTrustProxy([]);
    expect((await postPrompt(FROM_HTTPS_PROXY)).status).toBe(403);

    await setTrustProxy(['127.0.0.1']);
    const accepted = await postPrompt(FROM_HTTPS_PROXY);
    expect(accepted.status, accepted.text).toBe(200);
    const whoami = await call(`${gate.url}/gate/api/whoami`, {
      headers: { 'x-api-key': gate.adminKey, ...FROM_HTTPS_PROXY },
    });
    expect(whoami.status, whoami.text).toBe(200);

    // The same headers from a peer that is not a configured proxy are not believed.
    const before = callerRequests(fake).length;
    const untrusted = await fromUntrustedPeer(
      'POST',
      '/api/prompt',
      { 'x-api-key': gate.adminKey, 'content-type': 'application/json', ...FROM_HTTPS_PROXY },
      JSON.stringify({ prompt: SMALL_PROMPT })
    );
    expect(untrusted.status).toBe(403);
    expect(untrusted.body).toContain('forbidden_origin');
    expect(callerRequests(fake).length).toBe(before);
    const untrustedAdmin = await fromUntrustedPeer('GET', '/gate/api/whoami', {
      'x-api-key': gate.adminKey,
      ...FROM_HTTPS_PROXY,
    });
    expect(untrustedAdmin.status).toBe(403);
  });

  it("lets the browser's https WebSocket handshake through from a trusted proxy only", async () => {
    await setTrustProxy(['127.0.0.1']);
    const handshake = (localAddress: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${gate.url.replace('http', 'ws')}/ws?clientId=behind-proxy`, {
          origin: 'https://gate.example',
          localAddress,
          headers: { 'x-api-key': gate.adminKey, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gate.example' },
        });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.once('error', reject);
      });
    expect(await handshake('127.0.0.1')).toBe(101);
    expect(await handshake('127.0.0.2')).toBe(403);
  });

  it('reads the scheme, host and client from an RFC 7239 Forwarded header too', async () => {
    await setTrustProxy(['127.0.0.1']);
    const res = await postPrompt({
      origin: 'https://gate.example',
      forwarded: 'for=198.51.100.9;proto=https;host=gate.example',
    });
    expect(res.status, res.text).toBe(200);
  });

  it('checks the forwarded host instead of the loopback Host rule (DNS rebinding) for a trusted proxy only', async () => {
    await setTrustProxy(['127.0.0.1']);
    // Caddy passes the browser's Host through and adds X-Forwarded-Host.
    const proxied = await postPrompt({ ...FROM_HTTPS_PROXY, host: 'gate.example' });
    expect(proxied.status, proxied.text).toBe(200);
    // A rebinding page cannot add X-Forwarded-Host without a preflight: its bare Host is still refused.
    const rebinding = await postPrompt({ origin: 'http://gate.example', host: 'gate.example' });
    expect(rebinding.status).toBe(403);
    const untrusted = await fromUntrustedPeer('GET', '/api/queue', {
      'x-api-key': gate.adminKey,
      ...FROM_HTTPS_PROXY,
      host: 'gate.example',
    });
    expect(untrusted.status).toBe(403);
    expect(untrusted.body).toContain('localhost names');
  });

  it('sets the session cookie Secure under its __Host- name when the browser used https, and only then', async () => {
    await setTrustProxy(['127.0.0.1']);
    const login = await call(`${gate.url}/gate/login`, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gate.example', origin: 'https://gate.example' },
      json: { key: gate.adminKey },
    });
    expect(login.status, login.text).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^__Host-comfygate_session=eyJ[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/
    );
    const cookie = setCookie.split(';')[0]!;
    const whoami = await call(`${gate.url}/gate/api/whoami`, { headers: { cookie, ...FROM_HTTPS_PROXY } });
    expect(whoami.status, whoami.text).toBe(200);

    const logout = await call(`${gate.url}/gate/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', ...FROM_HTTPS_PROXY },
    });
    expect(String(logout.headers['set-cookie'])).toMatch(/^__Host-comfygate_session=; .*Max-Age=0; Secure$/);

    const untrusted = await fromUntrustedPeer(
      'POST',
      '/gate/login',
      { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      JSON.stringify({ key: gate.adminKey })
    );
    expect(untrusted.status).toBe(200);
    expect(untrusted.head).toMatch(/set-cookie: comfygate_session=/i);
    expect(untrusted.head).not.toMatch(/Secure/);
  });

  it('locks out and logs the forwarded client address, never an address a client made up', async () => {
    await setTrustProxy(['127.0.0.1']);
    const lockout = await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { lockout: { maxFailures: 3, windowMinutes: 5, lockoutMinutes: 1 } },
    });
    expect(lockout.status).toBe(200);
    // The client made up the first entry; the proxy appended the address it saw.
    const via = (address: string) => ({ 'x-forwarded-for': `198.51.100.1, ${address}` });
    for (let i = 0; i < 3; i++) {
      const wrong = await call(`${gate.url}/api/queue`, {
        headers: { 'x-api-key': `wrong-${i}`, ...via('203.0.113.7') },
      });
      expect(wrong.status).toBe(401);
    }
    const locked = await call<{ error: { code: string } }>(`${gate.url}/api/queue`, {
      headers: { 'x-api-key': gate.adminKey, ...via('203.0.113.7') },
    });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('locked_out');
    // Another client behind the same proxy, and the proxy itself, carry on.
    expect(
      (await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': gate.adminKey, ...via('203.0.113.8') } })).status
    ).toBe(200);
    expect((await call(`${gate.url}/api/queue`, { headers: { 'x-api-key': gate.adminKey } })).status).toBe(200);

    const logs = await call<{ items: Array<{ clientIp: string; status: number }> }>(
      `${gate.url}/gate/api/logs?status=401&limit=3`,
      { headers: { 'x-api-key': gate.adminKey } }
    );
    expect(logs.body.items.map((line) => line.clientIp)).toEqual(['203.0.113.7', '203.0.113.7', '203.0.113.7']);

    // A peer that is not a proxy cannot pick a fresh address per guess: its own address is locked.
    for (let i = 0; i < 3; i++) {
      const wrong = await fromUntrustedPeer('GET', '/api/queue', {
        'x-api-key': `wrong-${i}`,
        'x-forwarded-for': `192.0.2.${i}`,
      });
      expect(wrong.status).toBe(401);
    }
    const stillLocked = await fromUntrustedPeer('GET', '/api/queue', {
      'x-api-key': gate.adminKey,
      'x-forwarded-for': '192.0.2.99',
    });
    expect(stillLocked.status).toBe(429);
  });
});

describe('reading the forwarded chain', () => {
  const request = (peer: string, headers: Record<string, string>): IncomingMessage =>
    ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

  it('skips trusted hops from the right and never believes what the client wrote further left', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8', '::1']);
    const chain = { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.1.2.3' };
    expect(forwardedFrom(request('::ffff:10.0.0.2', chain), proxies)?.clientIp).toBe('203.0.113.7');
    expect(forwardedFrom(request('::1', { forwarded: 'for="[2001:db8::5]:4711";proto=https' }), proxies)).toEqual({
      clientIp: '2001:db8::5',
      secure: true,
      host: null,
    });
    // An entry that is no address ends the walk at the last proxy.
    expect(forwardedFrom(request('10.0.0.2', { 'x-forwarded-for': 'unknown, 10.9.9.9' }), proxies)?.clientIp).toBe(
      '10.9.9.9'
    );
    expect(forwardedFrom(request('192.168.1.5', chain), proxies)).toBeUndefined();
    expect(
      forwardedFrom(
        request('10.0.0.2', { 'x-forwarded-host': 'evil.example/path', 'x-forwarded-proto': 'ftp' }),
        proxies
      )
    ).toEqual({ clientIp: '10.0.0.2', secure: false, host: null });
  });
});
