// Tests of the fake ComfyUI itself, over real sockets, against the protocol reference
// (/work/shared/comfyui-protocol.md); section numbers refer to it.
import { Readable } from 'node:stream';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { previewFrame, previewFrameWithMetadata, startFakeComfy } from './fixtures/fakeComfy/index.js';
import type { FakeComfy } from './fixtures/fakeComfy/index.js';

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

interface HttpOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'DELETE' | 'OPTIONS' | 'PUT' | 'PATCH';
  headers?: Record<string, string>;
  body?: string | Buffer | Readable | FormData;
}

async function http(fake: FakeComfy, path: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const res = await request(`${fake.url}${path}`, {
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') };
}

async function getJson(fake: FakeComfy, path: string): Promise<unknown> {
  const r = await http(fake, path);
  expect(r.status).toBe(200);
  return JSON.parse(r.text) as unknown;
}

function postJson(fake: FakeComfy, path: string, value: unknown): Promise<HttpResult> {
  return http(fake, path, {
    method: 'POST',
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json' },
  });
}

type Frame =
  { kind: 'json'; raw: string; type: string; data: Record<string, unknown> } | { kind: 'binary'; buf: Buffer };

/** A WebSocket client that records every frame in arrival order. */
class Client {
  readonly frames: Frame[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.frames.push({ kind: 'binary', buf: data });
      } else {
        const raw = data.toString('utf8');
        const msg = JSON.parse(raw) as { type: string; data: Record<string, unknown> };
        this.frames.push({ kind: 'json', raw, type: msg.type, data: msg.data });
      }
      for (const l of this.listeners) l();
    });
  }

  static open(url: string, opts: WebSocket.ClientOptions = {}): Promise<Client> {
    const ws = new WebSocket(url, opts);
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Resolves with the first recorded frame (from the start) that matches. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 4000): Promise<Frame> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out; got ${this.frames.map(describeFrame).join(' ')}`));
      }, timeoutMs);
      const check = (): void => {
        const f = this.frames.find(pred);
        if (!f) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(f);
      };
      this.listeners.add(check);
    });
  }

  /** Waits for the legacy end-of-prompt marker `executing {node: null, prompt_id}`. */
  waitForDone(promptId: string): Promise<Frame> {
    return this.waitFor(
      (f) => f.kind === 'json' && f.type === 'executing' && f.data.node === null && f.data.prompt_id === promptId
    );
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

function describeFrame(f: Frame): string {
  if (f.kind === 'binary') return `binary:${f.buf.readUInt32BE(0)}`;
  if (f.type === 'progress_state') {
    const nodes = f.data.nodes as Record<string, { state: string }>;
    return `progress_state(${Object.entries(nodes)
      .map(([id, n]) => `${id}:${n.state}`)
      .join(',')})`;
  }
  if (f.type === 'executing') return `executing(${String(f.data.node)})`;
  if (f.type === 'status') {
    const status = f.data.status as { exec_info: { queue_remaining: number } };
    return `status(${status.exec_info.queue_remaining})`;
  }
  return f.type;
}

const EMPTY_TO_SAVE = {
  '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 48, batch_size: 1, color: 0xff0000 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'fake' } },
};

async function queuePrompt(fake: FakeComfy, body: Record<string, unknown>): Promise<string> {
  const r = await postJson(fake, '/api/prompt', body);
  expect(r.status).toBe(200);
  return (JSON.parse(r.text) as { prompt_id: string }).prompt_id;
}

let fake: FakeComfy;
let host: string;

beforeAll(async () => {
  fake = await startFakeComfy({ nodeDelayMs: 10 });
  host = `127.0.0.1:${fake.port}`;
});

afterAll(async () => {
  await fake.close();
});

describe('origin-only middleware (§2.4) and fetch-metadata guard (§12)', () => {
  const rows: Array<[string, (p: number) => Record<string, string>, number]> = [
    ['loopback host, foreign origin', (p) => ({ host: `127.0.0.1:${p}`, origin: 'https://proxy.example.com' }), 403],
    ['loopback host, other port', (p) => ({ host: `127.0.0.1:${p}`, origin: 'http://127.0.0.1:3000' }), 403],
    ['localhost vs 127.0.0.1', (p) => ({ host: `localhost:${p}`, origin: `http://127.0.0.1:${p}` }), 403],
    ['same host and port', (p) => ({ host: `127.0.0.1:${p}`, origin: `http://127.0.0.1:${p}` }), 200],
    ['origin without port', (p) => ({ host: `127.0.0.1:${p}`, origin: 'http://127.0.0.1' }), 200],
    ['host without port', () => ({ host: '127.0.0.1', origin: 'http://127.0.0.1:3000' }), 200],
    ['Origin: null', (p) => ({ host: `127.0.0.1:${p}`, origin: 'null' }), 200],
    ['non-loopback host', () => ({ host: 'proxy.example.invalid', origin: 'https://evil.example.com' }), 200],
    ['no Origin header', (p) => ({ host: `127.0.0.1:${p}` }), 200],
    ['Sec-Fetch-Site cross-site', (p) => ({ host: `127.0.0.1:${p}`, 'sec-fetch-site': 'cross-site' }), 403],
    ['Sec-Fetch-Site same-origin', (p) => ({ host: `127.0.0.1:${p}`, 'sec-fetch-site': 'same-origin' }), 200],
  ];
  for (const [name, headers, status] of rows) {
    it(`${name} → ${status}`, async () => {
      const r = await http(fake, '/api/prompt', { headers: headers(fake.port) });
      expect(r.status).toBe(status);
      if (status === 403) {
        expect(r.body.length).toBe(0);
        expect(r.headers['content-type']).toBe('application/octet-stream');
      }
    });
  }

  it('refuses every method and unknown paths too, and records the refused request', async () => {
    const before = fake.requests.length;
    const headers = { host, origin: 'https://proxy.example.com', 'content-type': 'application/json' };
    const post = await http(fake, '/api/prompt', { method: 'POST', headers, body: '{}' });
    const unknown = await http(fake, '/no/such/thing', { method: 'DELETE', headers });
    expect([post.status, unknown.status]).toEqual([403, 403]);
    expect(fake.requests.slice(before).map((r) => r.rawUrl)).toEqual(['/api/prompt', '/no/such/thing']);
  });

  it('answers OPTIONS with an empty 200 after the check, 403 before it', async () => {
    const ok = await http(fake, '/api/prompt', { method: 'OPTIONS', headers: { host, origin: `http://${host}` } });
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBe(0);
    const refused = await http(fake, '/anything', {
      method: 'OPTIONS',
      headers: { host, origin: 'http://evil.example' },
    });
    expect(refused.status).toBe(403);
  });

  it('applies to the WebSocket handshake', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}/ws`, { origin: 'https://proxy.example.com' });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('handshake should have been refused')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(403);
    expect(fake.upgrades.at(-1)?.headers.origin).toBe('https://proxy.example.com');
  });
});

describe('routing (§1)', () => {
  it('mirrors dynamic routes under /api but not /internal', async () => {
    expect(await getJson(fake, '/prompt')).toEqual(await getJson(fake, '/api/prompt'));
    expect(typeof (await getJson(fake, '/internal/logs'))).toBe('string');
    const mirrored = await http(fake, '/api/internal/logs');
    expect(mirrored.status).toBe(404);
    expect(mirrored.text).toBe('404: Not Found');
    const internalPost = await http(fake, '/internal/nope', { method: 'POST', body: '' });
    expect(internalPost.status).toBe(404);
  });

  it('serves index.html at / and /api/ without caching, and static files for GET and HEAD', async () => {
    for (const p of ['/', '/api/']) {
      const r = await http(fake, p);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/html');
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers.pragma).toBe('no-cache');
      expect(r.text).toContain('<html');
    }
    const js = await http(fake, '/extensions/core/x.js');
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toBe('no-cache');
    const head = await http(fake, '/assets/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
  });

  it('answers unknown GET with 404 and unknown non-GET with 405 Allow: GET,HEAD', async () => {
    const get = await http(fake, '/api/nothing-here');
    expect([get.status, get.text, get.headers['content-type']]).toEqual([
      404,
      '404: Not Found',
      'text/plain; charset=utf-8',
    ]);
    const post = await http(fake, '/api/prompt/', { method: 'POST', body: '{}' });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET,HEAD']);
    const del = await http(fake, '/prompt', { method: 'DELETE' });
    expect([del.status, del.headers.allow]).toEqual([405, 'GET,HEAD,POST']);
  });

  it('decodes the path before matching but never normalises it', async () => {
    expect((await http(fake, '/api/pr%6Fmpt')).status).toBe(200);
    expect((await http(fake, '//prompt')).status).toBe(404);
    expect((await http(fake, '/prompt/')).status).toBe(404);
    expect((await http(fake, '/api/prompt', { method: 'HEAD' })).status).toBe(200);
  });

  it("answers a plain GET /ws with aiohttp's 400 and unknown upgrade paths with 404", async () => {
    const plain = await http(fake, '/ws');
    expect(plain.status).toBe(400);
    expect(plain.text).toBe('No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://${host}/api/nope`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });

  it('answers invalid JSON with the bare aiohttp 500', async () => {
    const r = await http(fake, '/api/prompt', { method: 'POST', body: '{"prompt": ' });
    expect(r.status).toBe(500);
    expect(r.text).toBe('500 Internal Server Error\n\nServer got itself in trouble');
  });

  it('prints JSON the way Python json.dumps does', async () => {
    const r = await http(fake, '/api/features');
    expect(r.text).toBe('{"supports_preview_metadata": true, "max_upload_size": 104857600.0}');
  });
});

describe('userdata (§4.1)', () => {
  it('round-trips a workflow saved as workflows%2Fa.json', async () => {
    const save = await http(fake, '/api/userdata/workflows%2Fa.json?overwrite=true', {
      method: 'POST',
      body: '{"nodes":[]}',
    });
    expect(save.status).toBe(200);
    expect(JSON.parse(save.text)).toBe('workflows/a.json');
    const load = await http(fake, '/api/userdata/workflows%2Fa.json');
    expect([load.status, load.text, load.headers['content-type']]).toEqual([200, '{"nodes":[]}', 'application/json']);
    expect(await getJson(fake, '/api/userdata?dir=workflows')).toEqual(['a.json']);
    expect(await getJson(fake, '/api/userdata?dir=workflows&full_info=true')).toEqual([
      expect.objectContaining({ path: 'a.json', size: 12 }),
    ]);
    const doubled = await http(fake, '/api/userdata/workflows%252Fa.json');
    expect(doubled.text).toBe('{"nodes":[]}');
  });

  it('refuses to overwrite with overwrite=false, and a raw slash does not match', async () => {
    const again = await http(fake, '/api/userdata/workflows%2Fa.json?overwrite=false', { method: 'POST', body: '{}' });
    expect([again.status, again.text]).toEqual([409, 'File already exists']);
    const raw = await http(fake, '/api/userdata/workflows/a.json', { method: 'POST', body: '{}' });
    expect(raw.status).toBe(405);
    expect((await http(fake, '/api/userdata/workflows/a.json')).status).toBe(404);
  });

  it('deletes and lists like the user manager', async () => {
    await http(fake, '/api/userdata/workflows%2Fb.json', { method: 'POST', body: '{}' });
    expect((await http(fake, '/api/userdata/workflows%2Fb.json', { method: 'DELETE' })).status).toBe(204);
    expect((await http(fake, '/api/userdata/workflows%2Fb.json')).status).toBe(404);
    expect((await http(fake, '/api/userdata?dir=missing')).status).toBe(404);
    expect((await http(fake, '/api/userdata')).text).toBe('Directory not provided');
    expect((await http(fake, '/api/userdata/..%2F..%2Fetc%2Fpasswd')).status).toBe(403);
  });

  it('stores settings per user', async () => {
    expect((await postJson(fake, '/api/settings', { 'Comfy.Theme': 'dark' })).status).toBe(200);
    expect((await postJson(fake, '/api/settings/Comfy.Locale', 'en')).status).toBe(200);
    expect(await getJson(fake, '/api/settings')).toEqual({ 'Comfy.Theme': 'dark', 'Comfy.Locale': 'en' });
    expect(await getJson(fake, '/api/settings/Comfy.Locale')).toBe('en');
    expect(await getJson(fake, '/api/users')).toEqual({ storage: 'server', migrated: true });
  });
});

describe('GET /view (§6.5)', () => {
  const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  beforeAll(() => {
    fake.addFile('output', 'img.png', bytes);
    fake.addFile('output', 'page.html', Buffer.from('<script>alert(1)</script>'));
    fake.addFile('temp', 'nested.png', bytes, 'sub');
  });

  it('serves the file with type, disposition, ETag and Last-Modified', async () => {
    const r = await http(fake, '/api/view?filename=img.png&type=output&subfolder=&rand=0.5');
    expect(r.status).toBe(200);
    expect(r.body.equals(bytes)).toBe(true);
    expect(r.headers['content-type']).toBe('image/png');
    expect(r.headers['content-disposition']).toBe('filename="img.png"');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.etag).toMatch(/^"[0-9a-f]+-64"$/);
    expect(r.headers['last-modified']).toBeTruthy();
    // The cache middleware looks at the path only, and /view does not end in .png.
    expect(r.headers['cache-control']).toBeUndefined();
  });

  it('answers Range with 206 and conditional requests with 304', async () => {
    const ranged = await http(fake, '/view?filename=img.png', { headers: { range: 'bytes=10-19' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe('bytes 10-19/100');
    expect(ranged.body.equals(bytes.subarray(10, 20))).toBe(true);
    const suffix = await http(fake, '/view?filename=img.png', { headers: { range: 'bytes=-5' } });
    expect(suffix.headers['content-range']).toBe('bytes 95-99/100');
    const beyond = await http(fake, '/view?filename=img.png', { headers: { range: 'bytes=200-' } });
    expect([beyond.status, beyond.headers['content-range']]).toEqual([416, 'bytes */100']);

    const first = await http(fake, '/view?filename=img.png');
    const etag = String(first.headers.etag);
    const cached = await http(fake, '/view?filename=img.png', { headers: { 'if-none-match': etag } });
    expect([cached.status, cached.body.length]).toEqual([304, 0]);
    const since = await http(fake, '/view?filename=img.png', {
      headers: { 'if-modified-since': String(first.headers['last-modified']) },
    });
    expect(since.status).toBe(304);
  });

  it('refuses bad names, types and subfolders like upstream', async () => {
    const cases: Array<[string, number]> = [
      ['/view', 404],
      ['/view?filename=', 400],
      ['/view?filename=../x.png', 400],
      ['/view?filename=%2Fetc%2Fpasswd', 400],
      ['/view?filename=img.png&type=bogus', 400],
      ['/view?filename=img.png&subfolder=../..', 403],
      ['/view?filename=img.png&subfolder=%2Fetc', 403],
      ['/view?filename=missing.png', 404],
    ];
    for (const [url, status] of cases) {
      const r = await http(fake, url);
      expect([url, r.status]).toEqual([url, status]);
      expect(r.body.length).toBe(0);
    }
  });

  it('forces HTML to download, honours annotated names and subfolders', async () => {
    const html = await http(fake, '/view?filename=page.html');
    expect(html.headers['content-type']).toBe('application/octet-stream');
    const annotated = await http(fake, `/view?filename=${encodeURIComponent('nested.png [temp]')}&subfolder=sub`);
    expect(annotated.status).toBe(200);
    expect((await http(fake, '/view?filename=nested.png&type=temp&subfolder=sub')).status).toBe(200);
  });
});

describe('POST /upload/image (§6.4)', () => {
  function form(field: string, name: string, data: Buffer, extra: Record<string, string> = {}): FormData {
    const f = new FormData();
    f.append(field, new Blob([data], { type: 'image/png' }), name);
    for (const [k, v] of Object.entries(extra)) f.append(k, v);
    return f;
  }

  it('stores the upload so /view serves it, and reuses or renames on clashes', async () => {
    const data = Buffer.alloc(3000, 7);
    const r = await http(fake, '/api/upload/image', { method: 'POST', body: form('image', 'up.png', data) });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"name": "up.png", "subfolder": "", "type": "input"}');
    expect(fake.lastUpload()).toEqual({ name: 'up.png', bytes: 3000 });
    const viewed = await http(fake, '/api/view?filename=up.png&type=input');
    expect(viewed.body.equals(data)).toBe(true);

    const same = await http(fake, '/api/upload/image', { method: 'POST', body: form('image', 'up.png', data) });
    expect(JSON.parse(same.text)).toEqual({ name: 'up.png', subfolder: '', type: 'input' });
    const other = await http(fake, '/api/upload/image', {
      method: 'POST',
      body: form('image', 'up.png', Buffer.from('x')),
    });
    expect(JSON.parse(other.text)).toEqual({ name: 'up (1).png', subfolder: '', type: 'input' });
    const pasted = await http(fake, '/api/upload/image', {
      method: 'POST',
      body: form('image', 'clip.png', data, { subfolder: 'pasted', type: 'temp' }),
    });
    expect(JSON.parse(pasted.text)).toEqual({ name: 'clip.png', subfolder: 'pasted', type: 'temp' });
    expect((await http(fake, '/view?filename=clip.png&type=temp&subfolder=pasted')).status).toBe(200);
  });

  it('answers 400 for a wrong field name or an escaping subfolder, 500 for an unknown type', async () => {
    const wrong = await http(fake, '/api/upload/image', {
      method: 'POST',
      body: form('file', 'x.png', Buffer.from('x')),
    });
    expect([wrong.status, wrong.body.length]).toEqual([400, 0]);
    expect(fake.lastUpload()?.name).toBe('x.png');
    const escape = await http(fake, '/api/upload/image', {
      method: 'POST',
      body: form('image', 'x.png', Buffer.from('x'), { subfolder: '../..' }),
    });
    expect(escape.status).toBe(400);
    const badType = await http(fake, '/api/upload/image', {
      method: 'POST',
      body: form('image', 'x.png', Buffer.from('x'), { type: 'models' }),
    });
    expect(badType.status).toBe(500);
  });
});

describe('prompt execution over the WebSocket (§7, §13)', () => {
  it("sends the §13 sequence to the prompt's client, with an event 4 preview after feature flags", async () => {
    const client = await Client.open(`ws://${host}/ws?clientId=c-meta`);
    const hello = await client.waitFor((f) => f.kind === 'json' && f.type === 'status');
    expect(hello.kind === 'json' && hello.raw).toBe(
      '{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "c-meta"}}'
    );
    client.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    const flags = await client.waitFor((f) => f.kind === 'json' && f.type === 'feature_flags');
    expect(flags.kind === 'json' && flags.data).toEqual({
      supports_preview_metadata: true,
      max_upload_size: 104857600,
    });

    const promptId = await queuePrompt(fake, { prompt: EMPTY_TO_SAVE, client_id: 'c-meta' });
    await client.waitForDone(promptId);
    expect(client.frames.map(describeFrame)).toEqual([
      'status(0)',
      'feature_flags',
      'status(1)',
      'status(1)',
      'execution_start',
      'execution_cached',
      'progress_state(1:running)',
      'executing(1)',
      'progress_state(1:running)',
      'binary:4',
      'progress',
      'progress_state(1:finished)',
      'progress_state(1:finished,2:running)',
      'executing(2)',
      'executed',
      'progress_state(1:finished,2:finished)',
      'execution_success',
      'status(0)',
      'executing(null)',
    ]);

    const preview = client.frames.find((f) => f.kind === 'binary');
    if (preview?.kind !== 'binary') throw new Error('no preview frame');
    const jsonLength = preview.buf.readUInt32BE(4);
    const meta = JSON.parse(preview.buf.subarray(8, 8 + jsonLength).toString('utf8')) as Record<string, unknown>;
    expect(meta).toEqual({
      node_id: '1',
      prompt_id: promptId,
      display_node_id: '1',
      parent_node_id: null,
      real_node_id: '1',
      image_type: 'image/jpeg',
    });
    expect(preview.buf.subarray(8 + jsonLength, 10 + jsonLength).toString('hex')).toBe('ffd8');

    const executed = client.frames.find((f) => f.kind === 'json' && f.type === 'executed');
    if (executed?.kind !== 'json') throw new Error('no executed message');
    expect(executed.data).toEqual({
      node: '2',
      display_node: '2',
      prompt_id: promptId,
      output: { images: [{ filename: 'fake_00001_.png', subfolder: '', type: 'output' }] },
    });
    const image = await http(fake, '/api/view?filename=fake_00001_.png&type=output');
    expect([image.status, image.body.subarray(1, 4).toString()]).toEqual([200, 'PNG']);

    const history = (await getJson(fake, `/api/history/${promptId}`)) as Record<
      string,
      { status: { status_str: string; messages: Array<[string, unknown]> }; outputs: unknown; prompt: unknown[] }
    >;
    const entry = history[promptId];
    expect(entry?.status.status_str).toBe('success');
    expect(entry?.status.messages.map((m) => m[0])).toEqual([
      'execution_start',
      'execution_cached',
      'execution_success',
    ]);
    expect(entry?.prompt.slice(1, 2)).toEqual([promptId]);
    expect(entry?.outputs).toEqual({
      '2': { images: [{ filename: 'fake_00001_.png', subfolder: '', type: 'output' }] },
    });
    await client.close();
  });

  it('sends a legacy event 1 preview to a client without feature flags, and nothing targeted to others', async () => {
    const client = await Client.open(`ws://${host}/api/ws?clientId=c-legacy`);
    const bystander = await Client.open(`ws://${host}/ws`);
    const hello = await bystander.waitFor((f) => f.kind === 'json' && f.type === 'status');
    expect(hello.kind === 'json' && hello.data.sid).toMatch(/^[0-9a-f]{32}$/);
    const promptId = await queuePrompt(fake, { prompt: EMPTY_TO_SAVE, client_id: 'c-legacy', prompt_id: 'my-own-id' });
    expect(promptId).toBe('my-own-id');
    await client.waitForDone(promptId);
    const preview = client.frames.find((f) => f.kind === 'binary');
    if (preview?.kind !== 'binary') throw new Error('no preview frame');
    expect([preview.buf.readUInt32BE(0), preview.buf.readUInt32BE(4)]).toEqual([1, 1]);
    const order = client.frames.map(describeFrame);
    expect(order.indexOf('binary:1')).toBe(order.indexOf('progress') + 1);
    await bystander.waitFor(
      (f) =>
        f.kind === 'json' && f.type === 'status' && describeFrame(f) === 'status(0)' && bystander.frames.indexOf(f) > 1
    );
    expect(new Set(bystander.frames.map((f) => (f.kind === 'json' ? f.type : 'binary')))).toEqual(new Set(['status']));
    await Promise.all([client.close(), bystander.close()]);
  });

  it('broadcasts progress and legacy previews when the prompt has no client_id (§7.5)', async () => {
    const watcher = await Client.open(`ws://${host}/ws?clientId=watcher`);
    watcher.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await queuePrompt(fake, { prompt: EMPTY_TO_SAVE });
    await watcher.waitFor(
      (f) =>
        f.kind === 'json' && f.type === 'progress_state' && describeFrame(f) === 'progress_state(1:finished,2:finished)'
    );
    const types = new Set(watcher.frames.map((f) => (f.kind === 'json' ? f.type : `binary:${f.buf.readUInt32BE(0)}`)));
    expect(types).toEqual(new Set(['status', 'feature_flags', 'progress_state', 'progress', 'binary:1']));
    await watcher.close();
  });

  it('tracks open sockets and offers broadcast helpers', async () => {
    const a = await Client.open(`ws://${host}/ws?clientId=a`);
    expect(fake.openSockets()).toBeGreaterThanOrEqual(1);
    fake.broadcastJson({ type: 'display_component', data: { node_id: '12' } });
    fake.broadcastBinary(previewFrame('png', Buffer.from('img')));
    await a.waitFor((f) => f.kind === 'binary');
    const custom = await a.waitFor((f) => f.kind === 'json' && f.type === 'display_component');
    expect(custom.kind === 'json' && custom.raw).toBe('{"type": "display_component", "data": {"node_id": "12"}}');
    const closed = new Promise<number>((resolve) => a.ws.once('close', (code) => resolve(code)));
    fake.closeAllSockets(1012, 'restart');
    expect(await closed).toBe(1012);
  });
});

describe('prompt validation (§6.1)', () => {
  it('answers 400 with {error, node_errors} for the documented error types', async () => {
    const noPrompt = await postJson(fake, '/api/prompt', { client_id: 'x' });
    expect(noPrompt.status).toBe(400);
    expect(JSON.parse(noPrompt.text)).toEqual({
      error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} },
      node_errors: {},
    });
    const unknown = await postJson(fake, '/api/prompt', { prompt: { '5': { class_type: 'Nope', inputs: {} } } });
    expect(JSON.parse(unknown.text)).toEqual({
      error: {
        type: 'invalid_prompt',
        message: 'Cannot execute because node Nope does not exist.',
        details: "Node ID '#5'",
        extra_info: {},
      },
      node_errors: {},
    });
    const noOutputs = await postJson(fake, '/api/prompt', { prompt: { '1': EMPTY_TO_SAVE['1'] } });
    expect((JSON.parse(noOutputs.text) as { error: { type: string } }).error.type).toBe('prompt_no_outputs');
  });

  it('reports per-node input errors with dependent outputs', async () => {
    const r = await postJson(fake, '/api/prompt', {
      prompt: {
        '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x.safetensors' } },
        '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'p' } },
      },
    });
    expect(r.status).toBe(400);
    const body = JSON.parse(r.text) as {
      error: { type: string; details: string };
      node_errors: Record<string, unknown>;
    };
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.error.details).toBe('Required input is missing: images');
    expect(body.node_errors).toEqual({
      '9': {
        errors: [
          {
            type: 'required_input_missing',
            message: 'Required input is missing',
            details: 'images',
            extra_info: { input_name: 'images' },
          },
        ],
        dependent_outputs: ['9'],
        class_type: 'SaveImage',
      },
    });
  });
});

describe('queue management and interrupt (§3, §13)', () => {
  let slow: FakeComfy;
  beforeAll(async () => {
    // Long enough that the queue is inspected while the first prompt surely runs; an interrupt ends it early.
    slow = await startFakeComfy({ nodeDelayMs: 5000 });
  });
  afterAll(async () => {
    await slow.close();
  });

  it('shows running and pending items, deletes pending ones, and interrupts the running prompt', async () => {
    const client = await Client.open(`ws://127.0.0.1:${slow.port}/ws?clientId=q`);
    const first = await queuePrompt(slow, { prompt: EMPTY_TO_SAVE, client_id: 'q' });
    const second = await queuePrompt(slow, { prompt: EMPTY_TO_SAVE, client_id: 'q', front: true });
    await client.waitFor((f) => f.kind === 'json' && f.type === 'executing' && f.data.node === '1');

    const queue = (await getJson(slow, '/api/queue')) as { queue_running: unknown[][]; queue_pending: unknown[][] };
    expect(queue.queue_running.map((i) => i[1])).toEqual([first]);
    expect(queue.queue_pending.map((i) => i[1])).toEqual([second]);
    expect(queue.queue_pending[0]?.[0]).toBe(-1);
    expect(queue.queue_pending[0]?.[3]).toEqual({ client_id: 'q' });
    expect((await postJson(slow, '/api/queue', { delete: [second] })).status).toBe(200);
    expect(((await getJson(slow, '/api/queue')) as { queue_pending: unknown[] }).queue_pending).toEqual([]);

    const interrupt = await postJson(slow, '/api/interrupt', { prompt_id: first });
    expect([interrupt.status, interrupt.body.length]).toEqual([200, 0]);
    await client.waitForDone(first);
    expect(client.frames.map(describeFrame).slice(-3)).toEqual([
      'execution_interrupted',
      'status(0)',
      'executing(null)',
    ]);
    const history = (await getJson(slow, `/api/history/${first}`)) as Record<
      string,
      { status: { status_str: string; completed: boolean; messages: Array<[string, unknown]> } }
    >;
    expect(history[first]?.status.status_str).toBe('error');
    expect(history[first]?.status.completed).toBe(false);
    expect(history[first]?.status.messages.at(-1)?.[0]).toBe('execution_interrupted');
    await client.close();
  });
});

describe('execution timestamps (§6.3, §7.5)', () => {
  it('stamps start and end in history and frames alike, with the execution time setNodeDelay asks for', async () => {
    fake.setNodeDelay(300);
    try {
      const client = await Client.open(`ws://${host}/ws?clientId=timed`);
      const promptId = await queuePrompt(fake, { prompt: EMPTY_TO_SAVE, client_id: 'timed' });
      await client.waitForDone(promptId);
      const history = (await getJson(fake, `/api/history/${promptId}`)) as Record<
        string,
        { status: { messages: Array<[string, { timestamp: number }]> } }
      >;
      const stamped = Object.fromEntries(history[promptId]!.status.messages.map(([type, d]) => [type, d.timestamp]));
      const framed = Object.fromEntries(
        client.frames.flatMap((f) =>
          f.kind === 'json' && typeof f.data.timestamp === 'number' ? [[f.type, f.data.timestamp]] : []
        )
      );
      expect(framed).toEqual(stamped);
      // Two executed nodes of 300 ms each: at least that long, by ComfyUI's own clock.
      expect(stamped['execution_success']! - stamped['execution_start']!).toBeGreaterThanOrEqual(600);
      await client.close();
    } finally {
      fake.setNodeDelay(10);
    }
  });
});

describe('body size limit (§2.5)', () => {
  let small: FakeComfy;
  beforeAll(async () => {
    small = await startFakeComfy({ maxUploadBytes: 1024 });
  });
  afterAll(async () => {
    await small.close();
  });

  it('answers 413 from Content-Length and from a chunked body', async () => {
    const declared = await http(small, '/api/prompt', { method: 'POST', body: 'x'.repeat(2000) });
    expect(declared.status).toBe(413);
    expect(declared.text).toBe('Maximum request body size 1024 exceeded, actual body size 2000');
    const chunked = await http(small, '/api/prompt', {
      method: 'POST',
      body: Readable.from([Buffer.alloc(600, 32), Buffer.alloc(600, 32)]),
    });
    expect(chunked.status).toBe(413);
    expect(chunked.text).toMatch(/^Maximum request body size 1024 exceeded, actual body size \d+$/);
    const upload = new FormData();
    upload.append('image', new Blob([Buffer.alloc(4096)]), 'big.png');
    expect((await http(small, '/api/upload/image', { method: 'POST', body: upload })).status).toBe(413);
    expect((await http(small, '/api/features')).text).toContain('"max_upload_size": 1024.0');
  });
});

describe('frame helpers (§7.7)', () => {
  it('lays out event 1 and event 4', () => {
    const img = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    expect(previewFrame('png', img).toString('hex')).toBe('0000000100000002ffd8ffd9');
    const frame = previewFrameWithMetadata(
      {
        node_id: '3',
        prompt_id: 'p',
        display_node_id: '3',
        parent_node_id: null,
        real_node_id: '3',
        image_type: 'image/jpeg',
      },
      img
    );
    const len = frame.readUInt32BE(4);
    expect(frame.readUInt32BE(0)).toBe(4);
    expect(frame.subarray(8, 8 + len).toString()).toBe(
      '{"node_id": "3", "prompt_id": "p", "display_node_id": "3", "parent_node_id": null, "real_node_id": "3", "image_type": "image/jpeg"}'
    );
    expect(frame.subarray(8 + len).equals(img)).toBe(true);
  });
});

describe('the jobs API of later builds (§12, option jobsApi)', () => {
  it('exists only at /api/jobs and /api/api/jobs, pages with pagination.total, and is off by default', async () => {
    const plain = await startFakeComfy({ nodeDelayMs: 1 });
    const later = await startFakeComfy({ nodeDelayMs: 1, jobsApi: true });
    try {
      expect((await http(plain, '/api/jobs')).status).toBe(404);
      expect((await http(later, '/jobs')).status).toBe(404);
      const prompt = { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } };
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const queued = await postJson(later, '/prompt', {
          prompt: { ...prompt, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'j' } } },
        });
        ids.push((JSON.parse(queued.text) as { prompt_id: string }).prompt_id);
      }
      // Finished jobs come in history order.
      while (Object.keys((await getJson(later, `/history/${ids[2]}`)) as object).length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const page = (await getJson(later, '/api/api/jobs?limit=2&offset=1')) as {
        jobs: Array<{ id: string }>;
        pagination: unknown;
      };
      expect(page.jobs.map((job) => job.id)).toEqual(ids.slice(1));
      expect(page.pagination).toEqual({ offset: 1, limit: 2, total: 3, has_more: false });
      expect((await http(later, '/api/jobs?limit=0')).status).toBe(400);
    } finally {
      await Promise.all([plain.close(), later.close()]);
    }
  });
});
