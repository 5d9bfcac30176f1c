// Issue 16 item 1: what clients probe by themselves answers, for a role that may not use it, as a
// ComfyUI without that feature would (ComfyUI-Manager → 404), and the terminal log works for teammates
// without showing them the server's log, which tells of everyone's work.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';
import { eventually } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

interface ComfyShapedError {
  error: { code: string; message: string; type: string; details: string; extra_info: object };
  node_errors: object;
}

const { fake, gate } = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
const keys: Record<string, string> = {};
const sockets: RecordingSocket[] = [];

function as<T = unknown>(role: string, path: string, init: { method?: string; json?: unknown } = {}) {
  return call<T>(`${gate.url}${path}`, { ...init, headers: { 'x-api-key': keys[role]! } });
}

async function openSocket(role: string, clientId: string): Promise<RecordingSocket> {
  const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=${clientId}`, {
    headers: { 'x-api-key': keys[role]! },
  });
  sockets.push(socket);
  return socket;
}

function typesOf(socket: RecordingSocket): unknown[] {
  return socket.json().map((m) => (m as { type: unknown }).type);
}

beforeAll(async () => {
  for (const role of ['viewer', 'creator', 'operator']) {
    const res = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
      headers: { 'x-api-key': gate.adminKey },
      json: { name: role, role },
    });
    keys[role] = res.body.key;
  }
  const guest = await call<{ key: string }>(`${gate.url}/gate/api/keys`, {
    headers: { 'x-api-key': gate.adminKey },
    json: { name: 'guest', preset: 'guest' },
  });
  keys['guest'] = guest.body.key;
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

describe('ComfyUI-Manager for a role without install', () => {
  const PROBES: Array<[method: string, path: string]> = [
    ['GET', '/manager/version'],
    ['GET', '/api/manager/version'],
    ['GET', '/manager/notice'],
    ['GET', '/customnode/getmappings?mode=local'],
    ['GET', '/api/snapshot/getlist'],
    ['GET', '/manager/reboot'],
    ['POST', '/api/manager/queue/install'],
    ['POST', '/v2/manager/queue/task'],
  ];

  it.each(['viewer', 'creator', 'guest'])('answers 404 as if not installed, saying why, to a %s', async (role) => {
    const before = callerRequests(fake).length;
    for (const [method, path] of PROBES) {
      const res = await as<ComfyShapedError>(role, path, { method, json: method === 'POST' ? {} : undefined });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_available');
      expect(res.body.error.message).toMatch(/^ComfyUI-Manager is not available to this key: .* needs scope 'install'/);
      expect(res.body.node_errors).toEqual({});
    }
    expect(callerRequests(fake).length).toBe(before);
  });

  it('still reaches ComfyUI for an operator', async () => {
    const before = callerRequests(fake).length;
    // This ComfyUI has no Manager: its own 404.
    const res = await as('operator', '/api/manager/version');
    expect(res.status).toBe(404);
    expect(res.text).toBe('404: Not Found');
    expect(callerRequests(fake).length).toBe(before + 1);
  });

  it('keeps 403 for what a client asks for on purpose, like writing the Manager’s config', async () => {
    const res = await as<ComfyShapedError>('creator', '/api/userdata/ComfyUI-Manager%2Fconfig.ini', {
      method: 'POST',
      json: {},
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden_scope');
  });
});

describe('the terminal log for a role without manage', () => {
  it('accepts the subscription and shows an empty log, without asking ComfyUI', async () => {
    const before = callerRequests(fake).length;
    const subscribe = await as('creator', '/internal/logs/subscribe', {
      method: 'PATCH',
      json: { clientId: 'c-1', enabled: true },
    });
    expect(subscribe.status).toBe(200);
    expect(subscribe.text).toBe('');
    const logs = await as('viewer', '/internal/logs');
    expect(logs.status).toBe(200);
    expect(logs.body).toBe('');
    const raw = await as('guest', '/internal/logs/raw');
    expect(raw.status).toBe(200);
    expect(raw.body).toEqual({ entries: [], size: { cols: 80, rows: 24 } });
    expect(raw.headers['content-type']).toBe('application/json; charset=utf-8');
    // (Team isolation may ask ComfyUI's /users whether it runs with --multi-user.)
    expect(fake.requests.slice(before).filter((r) => r.rawUrl.startsWith('/internal'))).toEqual([]);
  });

  it('shows an operator ComfyUI’s real log', async () => {
    expect((await as('creator', '/api/prompt', { json: { prompt: SMALL_PROMPT } })).status).toBe(200);
    const logs = await as<string>('operator', '/internal/logs');
    expect(logs.body).toContain('got prompt');
  });

  it('keeps 403 for the rest of /internal: server folders and file lists', async () => {
    const res = await as<ComfyShapedError>('creator', '/internal/folder_paths');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden_scope');
  });

  it('never delivers log frames to a teammate’s socket, even when an operator subscribed its id', async () => {
    const creator = await openSocket('creator', 'creator-tab');
    const operator = await openSocket('operator', 'operator-tab');
    expect(
      (
        await as('creator', '/internal/logs/subscribe', {
          method: 'PATCH',
          json: { clientId: 'creator-tab', enabled: true },
        })
      ).status
    ).toBe(200);
    for (const clientId of ['operator-tab', 'creator-tab']) {
      const res = await as('operator', '/internal/logs/subscribe', {
        method: 'PATCH',
        json: { clientId, enabled: true },
      });
      expect(res.status).toBe(200);
    }
    const queued = await as<{ prompt_id: string }>('creator', '/api/prompt', {
      json: { prompt: SMALL_PROMPT, client_id: 'creator-tab' },
    });
    expect(queued.status).toBe(200);
    await eventually(() => typesOf(operator).includes('logs'), 'the operator gets log frames');
    await eventually(
      () =>
        creator
          .json()
          .some(
            (m) =>
              (m as { type: string; data: { node?: unknown } }).type === 'executing' &&
              (m as { data: { node?: unknown } }).data.node === null
          ),
      'the creator’s prompt finished'
    );
    expect(typesOf(creator)).toContain('execution_success');
    expect(typesOf(creator)).not.toContain('logs');
  });
});
