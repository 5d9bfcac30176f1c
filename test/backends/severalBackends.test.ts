import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/appLog/logger.js';
import { BackendRouter } from '../../server/backends/backendRouter.js';
import { startFakeComfy, type FakeComfy } from '../fixtures/fakeComfy/index.js';
import { FormData, request } from 'undici';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { startTestGate, type TestGate } from '../helpers/testGate.js';
import { RecordingSocket } from '../helpers/wsClient.js';

interface Frame {
  type: string;
  data: Record<string, unknown>;
}

async function until(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function graph(prefix: string): Record<string, unknown> {
  return {
    '1': SMALL_PROMPT['1'],
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}

function promptPosts(fake: FakeComfy): number {
  return fake.requests.filter((r) => r.method === 'POST' && r.rawUrl === '/prompt').length;
}

function views(fake: FakeComfy): number {
  return fake.requests.filter((r) => r.rawUrl.startsWith('/view?')).length;
}

/** The fake that holds a prompt, asked directly (queue or history). */
async function ownerOf(fakes: readonly FakeComfy[], promptId: string): Promise<FakeComfy | undefined> {
  for (const fake of fakes) {
    const history = await call<Record<string, unknown>>(`${fake.url}/history/${promptId}`);
    if (history.body[promptId] !== undefined) return fake;
    const queue = await call<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(`${fake.url}/queue`);
    if ([...queue.body.queue_running, ...queue.body.queue_pending].some((item) => item[1] === promptId)) return fake;
  }
  return undefined;
}

function framesOf(socket: RecordingSocket): Frame[] {
  return socket.json() as Frame[];
}

function finished(socket: RecordingSocket, promptId: string, type = 'execution_success'): boolean {
  return framesOf(socket).some((frame) => frame.type === type && frame.data['prompt_id'] === promptId);
}

async function queuePrompt(gate: TestGate, clientId: string, prefix: string): Promise<string> {
  const res = await call<{ prompt_id: string }>(`${gate.url}/prompt`, {
    json: { prompt: graph(prefix), client_id: clientId },
  });
  expect(res.status).toBe(200);
  return res.body.prompt_id;
}

describe('several ComfyUI backends behind one gate', () => {
  let fakes: FakeComfy[] = [];
  let gate: TestGate;

  beforeAll(async () => {
    fakes = await Promise.all([
      startFakeComfy({ nodeDelayMs: 150 }),
      startFakeComfy({ nodeDelayMs: 150 }),
      // Without EmptyImage this one cannot run the test graph: placement must never send it there.
      startFakeComfy({ nodeDelayMs: 150, withoutNodes: ['EmptyImage'] }),
    ]);
    gate = await startTestGate({
      upstream: fakes[0]!.url,
      upstreams: fakes.map((fake, index) => ({ url: fake.url, label: `gpu${index}` })),
    });
  });

  afterAll(async () => {
    await gate.stop();
    await Promise.all(fakes.map((fake) => fake.close()));
  });

  it('spreads new prompts over the backends that have every node class of the graph', async () => {
    const before = fakes.map(promptPosts);
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => queuePrompt(gate, 'spread', `spread${i}`)));
    expect(new Set(ids).size).toBe(6);
    const placed = fakes.map((fake, index) => promptPosts(fake) - before[index]!);
    expect(placed[0]).toBeGreaterThanOrEqual(2);
    expect(placed[1]).toBeGreaterThanOrEqual(2);
    expect(placed[2]).toBe(0);
    expect(placed[0]! + placed[1]!).toBe(6);
    // The merged queue holds all of them, from both backends.
    const queue = await call<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(`${gate.url}/queue`);
    const queued = [...queue.body.queue_running, ...queue.body.queue_pending].map((item) => item[1]);
    expect(ids.filter((id) => queued.includes(id)).length).toBeGreaterThanOrEqual(4);
  });

  it("gives each client's socket exactly its own prompts' frames, whichever backend runs them", async () => {
    const first = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=client-one`);
    const second = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=client-two`);
    const mine = await Promise.all([0, 1, 2].map((i) => queuePrompt(gate, 'client-one', `one${i}`)));
    const theirs = await Promise.all([0, 1, 2].map((i) => queuePrompt(gate, 'client-two', `two${i}`)));
    await until(
      () => mine.every((id) => finished(first, id)) && theirs.every((id) => finished(second, id)),
      'every prompt finished on its own socket'
    );
    const promptIds = (socket: RecordingSocket): Set<unknown> =>
      new Set(framesOf(socket).flatMap((frame) => (frame.data?.['prompt_id'] ? [frame.data['prompt_id']] : [])));
    expect(promptIds(first)).toEqual(new Set(mine));
    expect(promptIds(second)).toEqual(new Set(theirs));
    // Both runners took part, and each socket heard one sum of the work left, not one status per backend.
    expect(fakes[0]!.openSockets()).toBeGreaterThanOrEqual(2);
    expect(fakes[1]!.openSockets()).toBeGreaterThanOrEqual(2);
    const statuses = framesOf(first).filter((frame) => frame.type === 'status');
    expect(statuses[0]?.data['sid']).toBe('client-one');
    expect(framesOf(first).filter((frame) => frame.type === 'feature_flags').length).toBeLessThanOrEqual(1);
    await Promise.all([first.close(), second.close()]);
  });

  it('sends history, view and interrupt of a prompt to the backend that has it', async () => {
    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=follow`);
    const ids = await Promise.all([0, 1, 2, 3].map((i) => queuePrompt(gate, 'follow', `follow${i}`)));
    await until(() => ids.every((id) => finished(socket, id)), 'the prompts finished');
    for (const [index, id] of ids.entries()) {
      const history = await call<Record<string, { outputs: Record<string, { images: Array<{ filename: string }> }> }>>(
        `${gate.url}/history/${id}`
      );
      expect(history.status).toBe(200);
      const filename = history.body[id]?.outputs['2']?.images[0]?.filename;
      expect(filename).toMatch(new RegExp(`^follow${index}_`));
      const owner = await ownerOf(fakes, id);
      const viewsBefore = fakes.map(views);
      const view = await call(`${gate.url}/view?filename=${filename}&type=output`);
      expect(view.status).toBe(200);
      expect(view.headers['content-type']).toBe('image/png');
      // Learned from the executed frame: only the backend that wrote the file was asked.
      expect(fakes.map((fake, i) => views(fake) - viewsBefore[i]!)).toEqual(fakes.map((fake) => +(fake === owner)));
    }
    const merged = await call<Record<string, unknown>>(`${gate.url}/history`);
    for (const id of ids) expect(Object.keys(merged.body)).toContain(id);

    const long = await queuePrompt(gate, 'follow', 'interrupted');
    await until(
      () => framesOf(socket).some((frame) => frame.type === 'execution_start' && frame.data['prompt_id'] === long),
      'the long prompt started'
    );
    const interruptsBefore = fakes.map((fake) => fake.requests.filter((r) => r.rawUrl === '/interrupt').length);
    expect((await call(`${gate.url}/interrupt`, { json: { prompt_id: long } })).status).toBe(200);
    const runner = await ownerOf(fakes, long);
    const interrupts = fakes.map(
      (fake, index) => fake.requests.filter((r) => r.rawUrl === '/interrupt').length - interruptsBefore[index]!
    );
    expect(interrupts).toEqual(fakes.map((fake) => +(fake === runner)));
    await until(() => finished(socket, long, 'execution_interrupted'), 'the prompt was interrupted on its backend');
    await socket.close();
  });

  it('sends an upload to every backend and unites their node catalogs', async () => {
    const form = new FormData();
    form.append('image', new Blob([Buffer.from('not really a png')], { type: 'image/png' }), 'shared.png');
    const res = await request(`${gate.url}/upload/image`, { method: 'POST', body: form });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ name: 'shared.png', subfolder: '', type: 'input' });
    for (const fake of fakes) expect(fake.lastUpload()).toEqual({ name: 'shared.png', bytes: 16 });

    const catalog = await call<Record<string, unknown>>(`${gate.url}/object_info`);
    expect(Object.keys(catalog.body)).toContain('EmptyImage');
    const third = await call<Record<string, unknown>>(`${fakes[2]!.url}/object_info`);
    expect(Object.keys(third.body)).not.toContain('EmptyImage');
  });

  it('lets only the gate use the backend router: a browser or a rebound name is refused', async () => {
    const router = await BackendRouter.start({
      specs: fakes.map((fake) => ({ url: fake.url })),
      connectTimeoutMs: 2_000,
      timeoutMs: 5_000,
      logger: silentLogger(),
    });
    try {
      expect((await call(`${router.url}/system_stats`)).status).toBe(200);
      const fromPage = await call(`${router.url}/prompt`, {
        headers: { origin: 'http://evil.example' },
        json: { prompt: graph('evil') },
      });
      expect(fromPage.status).toBe(403);
      const rebound = await call(`${router.url}/queue`, { headers: { host: 'evil.example' } });
      expect(rebound.status).toBe(403);
      await expect(
        RecordingSocket.open(`${router.url.replace('http', 'ws')}/ws`, { headers: { origin: 'http://evil.example' } })
      ).rejects.toThrow(/403/);
    } finally {
      await router.close();
    }
  });

  it('reports every backend in the status API and in Prometheus metrics with a backend label', async () => {
    const status = await call<{ backends: Array<{ label: string; reachable: boolean; url: string }> }>(
      `${gate.url}/gate/api/status`,
      { headers: { 'x-api-key': gate.adminKey } }
    );
    expect(status.status).toBe(200);
    expect(status.body.backends.map((backend) => [backend.label, backend.url, backend.reachable])).toEqual(
      fakes.map((fake, index) => [`gpu${index}`, fake.url, true])
    );
    const metrics = await call(`${gate.url}/gate/metrics`, { headers: { 'x-api-key': gate.adminKey } });
    expect(metrics.text).toContain('comfygate_backend_up{backend="gpu2"} 1');
    expect(metrics.text).toMatch(/comfygate_backend_prompts_total\{backend="gpu0"\} [1-9]/);
  });
});

describe('a backend killed and restarted mid-run', () => {
  let steady: FakeComfy;
  let victim: FakeComfy;
  let gate: TestGate;

  beforeAll(async () => {
    steady = await startFakeComfy({ nodeDelayMs: 50 });
    victim = await startFakeComfy({ nodeDelayMs: 2_000 });
    // The heavy weight sends every prompt to the victim while it answers.
    gate = await startTestGate({
      upstream: steady.url,
      upstreams: [
        { url: steady.url, label: 'steady' },
        { url: victim.url, label: 'victim', weight: 100 },
      ],
    });
  });

  afterAll(async () => {
    await gate.stop();
    await Promise.all([steady.close(), victim.close()]);
  });

  it('fails the running prompt in ComfyUI’s shape, queues the waiting one elsewhere, and uses it again on return', async () => {
    const socket = await RecordingSocket.open(`${gate.url.replace('http', 'ws')}/ws?clientId=survivor`);
    const backendEvents: Array<[string, boolean]> = [];
    gate.events.on('backend', (backend) => backendEvents.push([backend.label, backend.reachable]));
    expect(gate.state.backends.map((backend) => [backend.label, backend.reachable])).toEqual([
      ['steady', true],
      ['victim', true],
    ]);
    const running = await queuePrompt(gate, 'survivor', 'running');
    const waiting = await queuePrompt(gate, 'survivor', 'waiting');
    expect(promptPosts(victim)).toBe(2);
    await until(
      () => framesOf(socket).some((frame) => frame.type === 'execution_start' && frame.data['prompt_id'] === running),
      'the first prompt runs on the victim'
    );
    const port = victim.port;
    await victim.close();

    await until(() => finished(socket, running, 'execution_error'), 'the lost prompt failed');
    const error = framesOf(socket).find((frame) => frame.type === 'execution_error')!;
    expect(error.data).toMatchObject({
      prompt_id: running,
      exception_type: 'BackendUnreachable',
      traceback: [],
      executed: [],
    });
    await until(() => finished(socket, waiting), 'the waiting prompt ran on the other backend');
    expect(promptPosts(steady)).toBe(1);
    const history = await call<Record<string, unknown>>(`${gate.url}/history/${waiting}`);
    expect(Object.keys(history.body)).toEqual([waiting]);

    const down = await call<{ backends: Array<{ label: string; reachable: boolean }> }>(`${gate.url}/gate/api/status`, {
      headers: { 'x-api-key': gate.adminKey },
    });
    expect(down.body.backends.find((backend) => backend.label === 'victim')?.reachable).toBe(false);
    // The gate as a whole still answers; the tray hears which backend stopped.
    expect(backendEvents).toEqual([['victim', false]]);
    expect(gate.state.upstream.reachable).toBe(true);
    const meanwhile = await queuePrompt(gate, 'survivor', 'meanwhile');
    await until(() => finished(socket, meanwhile), 'a new prompt ran on the steady backend');

    victim = await startFakeComfy({ nodeDelayMs: 50, port });
    await until(async () => {
      const status = await call<{ backends: Array<{ label: string; reachable: boolean }> }>(
        `${gate.url}/gate/api/status`,
        { headers: { 'x-api-key': gate.adminKey } }
      );
      return status.body.backends.every((backend) => backend.reachable);
    }, 'the victim is reachable again');
    expect(backendEvents).toEqual([
      ['victim', false],
      ['victim', true],
    ]);
    const after = await queuePrompt(gate, 'survivor', 'after');
    expect(promptPosts(victim)).toBe(1);
    await until(() => finished(socket, after), 'the returned backend runs prompts and the socket hears them');
    await socket.close();
  });
});
