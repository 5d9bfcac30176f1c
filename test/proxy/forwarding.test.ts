import { describe, expect, it } from 'vitest';
import { FormData, request } from 'undici';
import { rawExchange } from '../helpers/raw.js';
import { callerRequests, withGateAndComfy } from '../helpers/gateAndComfy.js';

const { fake, gate } = withGateAndComfy();

function lastRequestAtFake() {
  const last = callerRequests(fake).at(-1);
  if (!last) throw new Error('the fake ComfyUI saw no request');
  return last;
}

describe('faithful forwarding', () => {
  it('keeps %2F encoded and the query exactly as sent, so workflow save/load work', async () => {
    const body = JSON.stringify({ nodes: [], note: 'saved through the gate' });
    const saved = await request(`${gate.url}/api/userdata/workflows%2Fmy%20flow.json?overwrite=true&full_info=false`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(saved.statusCode).toBe(200);
    await saved.body.text();
    expect(lastRequestAtFake().rawUrl).toBe('/api/userdata/workflows%2Fmy%20flow.json?overwrite=true&full_info=false');

    const loaded = await request(`${gate.url}/api/userdata/workflows%2Fmy%20flow.json`);
    expect(loaded.statusCode).toBe(200);
    expect(await loaded.body.text()).toBe(body);
  });

  it('passes every method and status through, including ComfyUI 404 and 405 answers', async () => {
    const missing = await request(`${gate.url}/no/such/page`);
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.text()).toBe('404: Not Found');

    const wrongMethod = await request(`${gate.url}/api/prompt/`, { method: 'POST', body: '{}' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('GET,HEAD');
    await wrongMethod.body.dump();

    const deleted = await request(`${gate.url}/api/userdata/workflows%2Fmy%20flow.json`, { method: 'DELETE' });
    expect(deleted.statusCode).toBe(204);
    expect(lastRequestAtFake().method).toBe('DELETE');
    await deleted.body.dump();

    const head = await request(`${gate.url}/api/object_info`, { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(await head.body.text()).toBe('');
  });

  it('drops hop-by-hop headers and replaces X-Forwarded-* with what the gate saw', async () => {
    // Raw bytes: HTTP clients refuse to send Keep-Alive and custom Connection tokens themselves.
    const answer = await rawExchange(
      Number(new URL(gate.url).port),
      `GET /api/prompt HTTP/1.1\r\nHost: ${gate.host}\r\nConnection: close, x-secret-hop\r\nX-Secret-Hop: must not pass\r\n` +
        'Keep-Alive: timeout=5\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Custom: passes\r\n\r\n'
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const seen = lastRequestAtFake().headers;
    expect(seen['x-secret-hop']).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen['x-custom']).toBe('passes');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-host']).toBe(gate.host);
    expect(seen['x-forwarded-proto']).toBe('http');
  });

  it('returns ComfyUI headers and adds nosniff', async () => {
    const res = await request(`${gate.url}/api/prompt`);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(await res.body.json()).toEqual({ exec_info: { queue_remaining: expect.any(Number) as number } });
  });

  it('passes Range, ETag and 206/304 through for /view', async () => {
    const image = Buffer.alloc(10_000, 7);
    image.write('\x89PNG', 0, 'latin1');
    fake.addFile('output', 'range.png', image);

    const full = await request(`${gate.url}/api/view?filename=range.png&type=output`);
    expect(full.statusCode).toBe(200);
    expect(Buffer.from(await full.body.arrayBuffer()).equals(image)).toBe(true);
    const etag = full.headers['etag'];
    expect(typeof etag).toBe('string');

    const part = await request(`${gate.url}/api/view?filename=range.png&type=output`, {
      headers: { range: 'bytes=100-199' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 100-199/10000');
    expect(Buffer.from(await part.body.arrayBuffer()).equals(image.subarray(100, 200))).toBe(true);
    expect(lastRequestAtFake().headers['range']).toBe('bytes=100-199');

    const cached = await request(`${gate.url}/api/view?filename=range.png&type=output`, {
      headers: { 'if-none-match': String(etag) },
    });
    expect(cached.statusCode).toBe(304);
    await cached.body.dump();
  });

  it('streams a multipart upload and the image is then viewable', async () => {
    const form = new FormData();
    form.append('image', new Blob([Buffer.alloc(50_000, 1)], { type: 'image/png' }), 'uploaded.png');
    form.append('type', 'input');
    const res = await request(`${gate.url}/api/upload/image`, { method: 'POST', body: form });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ name: 'uploaded.png', type: 'input' });
    expect(fake.lastUpload()).toEqual({ name: 'uploaded.png', bytes: 50_000 });

    const view = await request(`${gate.url}/api/view?filename=uploaded.png&type=input`);
    expect(view.statusCode).toBe(200);
    expect((await view.body.arrayBuffer()).byteLength).toBe(50_000);
  });

  it('answers the health check with the upstream and its reachability', async () => {
    const res = await request(`${gate.url}/gate/healthz`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ status: 'ok', upstream: { url: fake.url, reachable: true } });
  });

  it('answers unknown /gate paths itself with JSON 404, never forwarding them', async () => {
    const before = callerRequests(fake).length;
    const res = await request(`${gate.url}/gate/nope`);
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(callerRequests(fake).length).toBe(before);
  });
});

describe('files users uploaded are not rendered on the gate origin', () => {
  it.each([
    [
      'evil.svg',
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      'attachment; filename="evil.svg"',
    ],
    ['page.html', '<script>alert(1)</script>', 'attachment; filename="page.html"'],
    ['photo.png', '\x89PNG', undefined],
  ])('%s is served %s', async (name, content, disposition) => {
    fake.addFile('input', name, Buffer.from(content, 'latin1'));
    const res = await request(`${gate.url}/api/view?filename=${name}&type=input`);
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    if (disposition) expect(res.headers['content-disposition']).toBe(disposition);
    else expect(String(res.headers['content-disposition'])).not.toContain('attachment');
  });
});
