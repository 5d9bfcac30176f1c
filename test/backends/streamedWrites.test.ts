import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/appLog/logger.js';
import { BackendRouter } from '../../server/backends/backendRouter.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';

const BOUNDARY = 'comfygate-streamed-upload';
const FILE_BYTES = 8 * 1024 * 1024;

async function until(check: () => boolean, message: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A multipart `/upload/image` body around `file`, as a browser sends it. */
function uploadBody(name: string, file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="${name}"\r\n` +
        'Content-Type: image/png\r\n\r\n'
    ),
    file,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function uploadsSeen(fake: FakeComfy): number {
  return fake.requests.filter((r) => r.method === 'POST' && r.rawUrl === '/upload/image').length;
}

/** Starts an upload to the router: the caller writes the body; resolves with the status and text of its answer. */
function startUpload(routerUrl: string, length: number) {
  let answered!: (value: { status: number; text: string }) => void;
  let failed!: (error: Error) => void;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  const req = request(
    `${routerUrl}/upload/image`,
    {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length },
    },
    (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => answered({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    }
  );
  req.on('error', failed);
  return { req, answer };
}

describe('an upload the backend router sends to every backend', () => {
  let fakes: FakeComfy[];
  let router: BackendRouter;

  beforeAll(async () => {
    fakes = [await startFakeComfy(), await startFakeComfy(), await startFakeComfy({ maxUploadBytes: 1024 * 1024 })];
    router = await BackendRouter.start({
      specs: fakes.map((fake) => ({ url: fake.url })),
      connectTimeoutMs: 2_000,
      timeoutMs: 10_000,
      logger: silentLogger(),
    });
  });

  afterAll(async () => {
    await router.close();
    await Promise.all(fakes.map((fake) => fake.close()));
  });

  it('is streamed: every backend is receiving it before the client has sent all of it', async () => {
    const [first, second] = fakes as [FakeComfy, FakeComfy, FakeComfy];
    const file = Buffer.alloc(FILE_BYTES, 7);
    const body = uploadBody('streamed.png', file);
    const half = Math.floor(body.length / 2);
    const { req, answer } = startUpload(router.url, body.length);
    req.write(body.subarray(0, half));

    // Read whole first, the upload would reach no backend until the client sent its last byte.
    await until(() => uploadsSeen(first) === 1 && uploadsSeen(second) === 1, 'the backends saw the upload begin');

    req.end(body.subarray(half));
    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ name: 'streamed.png', subfolder: '', type: 'input' });
    for (const fake of [first, second]) expect(fake.lastUpload()).toEqual({ name: 'streamed.png', bytes: FILE_BYTES });
  });

  it('reaches the backends that take it when another refuses it part-way, and loses nothing', async () => {
    const [first, second, small] = fakes as [FakeComfy, FakeComfy, FakeComfy];
    const file = Buffer.alloc(FILE_BYTES, 9);
    file.write('distinct', 0);
    const { req, answer } = startUpload(router.url, uploadBody('big.png', file).length);
    req.end(uploadBody('big.png', file));
    const { status } = await answer;
    expect(status).toBe(200);
    for (const fake of [first, second]) expect(fake.lastUpload()).toEqual({ name: 'big.png', bytes: FILE_BYTES });
    expect(small.lastUpload()?.name).not.toBe('big.png');
    const view = await fetch(`${first.url}/view?filename=big.png&type=input`);
    expect(
      createHash('sha256')
        .update(Buffer.from(await view.arrayBuffer()))
        .digest('hex')
    ).toBe(createHash('sha256').update(file).digest('hex'));
  });
});
