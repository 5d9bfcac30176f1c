import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';

const { fake, gate } = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
const keys: Record<string, string> = {};

beforeAll(async () => {
  for (const role of ['viewer', 'creator', 'operator', 'admin']) {
    const res = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
      headers: { 'x-api-key': gate.adminKey },
      json: { name: role, role },
    });
    keys[role] = res.body.key;
  }
});

/** One request per route class; none of them may reach ComfyUI when refused. */
const ROUTES = {
  read: { method: 'GET', path: '/api/object_info/EmptyImage' },
  generate: { method: 'POST', path: '/api/prompt', json: { prompt: SMALL_PROMPT } },
  manage: { method: 'POST', path: '/api/free', json: { unload_models: false } },
  install: { method: 'POST', path: '/api/manager/queue/install', json: { id: 'x' } },
} as const;

const ALLOWED: Record<string, string[]> = {
  viewer: ['read'],
  creator: ['read', 'generate'],
  operator: ['read', 'generate', 'manage', 'install'],
  admin: ['read', 'generate', 'manage', 'install'],
};

const matrix = Object.keys(ALLOWED).flatMap((role) =>
  (Object.keys(ROUTES) as Array<keyof typeof ROUTES>).map((routeClass) => [role, routeClass] as const)
);

describe('roles against route classes', () => {
  it.each(matrix)('%s → %s', async (role, routeClass) => {
    const route = ROUTES[routeClass];
    const before = callerRequests(fake).length;
    const res = await call<{ error?: { code: string; message: string } }>(`${gate.url}${route.path}`, {
      method: route.method,
      headers: { 'x-api-key': keys[role]! },
      json: 'json' in route ? route.json : undefined,
    });
    if (ALLOWED[role]!.includes(routeClass)) {
      expect(res.status).not.toBe(403);
      expect(callerRequests(fake).length).toBeGreaterThan(before);
    } else if (routeClass === 'install') {
      // To a caller who may not use it, ComfyUI-Manager looks not installed.
      expect(res.status).toBe(404);
      expect(res.body.error?.code).toBe('not_available');
      expect(res.body.error?.message).toContain(`needs scope 'install'`);
      expect(callerRequests(fake).length).toBe(before);
    } else {
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe('forbidden_scope');
      expect(res.body.error?.message).toContain(`needs scope '${routeClass}'`);
      expect(callerRequests(fake).length).toBe(before);
    }
  });

  it('decides Manager routes by path, never by method (legacy GET mutators are install)', async () => {
    const before = callerRequests(fake).length;
    for (const path of ['/manager/reboot', '/api/snapshot/restore?target=x', '/customnode/getlist']) {
      const res = await call(`${gate.url}${path}`, { headers: { 'x-api-key': keys['creator']! } });
      expect(res.status).toBe(404);
    }
    expect(callerRequests(fake).length).toBe(before);
  });

  it('lets a creator queue but not clear the queue; an operator may clear', async () => {
    const asCreator = (json: unknown) =>
      call(`${gate.url}/api/queue`, { headers: { 'x-api-key': keys['creator']! }, json });
    expect((await asCreator({ delete: ['nope'] })).status).toBe(200);
    const clear = await asCreator({ clear: true });
    expect(clear.status).toBe(403);
    expect(clear.text).toContain("needs scope 'manage'");
    const asOperator = await call(`${gate.url}/api/history`, {
      headers: { 'x-api-key': keys['operator']! },
      json: { clear: true },
    });
    expect(asOperator.status).toBe(200);
  });
});

describe('decisions on the normalized path', () => {
  it.each([
    ['/api/pr%6Fmpt (decoded like aiohttp)', 'POST', '/api/pr%6Fmpt', 'viewer', 403],
    ['/API/prompt (an unknown route: manage)', 'POST', '/API/prompt', 'creator', 403],
    ['/prompt/ (trailing slash: unknown route)', 'POST', '/prompt/', 'creator', 403],
    ['//prompt', 'POST', '//prompt', 'admin', 400],
    ['/api/manager/%2e%2e/prompt', 'POST', '/api/manager/%2e%2e/prompt', 'admin', 400],
    ['/view/../prompt', 'GET', '/view/../prompt', 'admin', 400],
    ['double-encoded %252F on userdata', 'POST', '/api/userdata/ComfyUI-Manager%252Fconfig.ini', 'admin', 400],
    ['%2F-encoded Manager config via userdata', 'POST', '/api/userdata/ComfyUI-Manager%2Fconfig.ini', 'creator', 403],
    ['a workflow save (generate)', 'POST', '/api/userdata/workflows%2Fa.json?overwrite=true', 'creator', 200],
  ])('%s', async (_label, method, path, role, status) => {
    // Raw bytes: URL parsers in HTTP clients would resolve the dot segments before sending.
    const answer = await rawExchange(
      Number(new URL(gate.url).port),
      `${method} ${path} HTTP/1.1\r\nHost: ${gate.host}\r\nX-API-Key: ${keys[role]!}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'
    );
    expect(answer.slice(9, 12)).toBe(String(status));
    if (status === 400) expect(answer).toContain('"code":"bad_request"');
  });

  it('forwards the raw path after deciding on the normalized one', async () => {
    await call(`${gate.url}/api/pr%6Fmpt`, { headers: { 'x-api-key': keys['creator']! } });
    expect(callerRequests(fake).at(-1)!.rawUrl).toBe('/api/pr%6Fmpt');
  });

  it('lets the operator re-class a custom-node route in settings', async () => {
    const path = '/my_node/render';
    expect((await call(`${gate.url}${path}`, { headers: { 'x-api-key': keys['creator']! }, json: {} })).status).toBe(
      403
    );
    await call(`${gate.url}/gate/api/settings`, {
      method: 'PATCH',
      headers: { 'x-api-key': gate.adminKey },
      json: { routeOverrides: [{ path: '/my_node/*', class: 'generate' }] },
    });
    try {
      expect((await call(`${gate.url}${path}`, { headers: { 'x-api-key': keys['creator']! }, json: {} })).status).toBe(
        405
      );
    } finally {
      await call(`${gate.url}/gate/api/settings`, {
        method: 'PATCH',
        headers: { 'x-api-key': gate.adminKey },
        json: { routeOverrides: [] },
      });
    }
  });
});
