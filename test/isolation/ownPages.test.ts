// Under team isolation ComfyUI still pages over everyone's entries; the gate pages over the
// caller's own: `/history?max_items=N` holds up to N of theirs, and the jobs API's totals count theirs.
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

interface JobsAnswer {
  jobs: Array<{ id: string; status: string }>;
  pagination: { offset: number; limit: number | null; total: number; has_more: boolean };
}

const { fake, gate } = withGateAndComfy({ comfy: { nodeDelayMs: 1, jobsApi: true }, gate: { mode: 'required' } });
let alice: string;
let bob: string;
let olga: string;
/** Prompt ids in the order they were queued (and finished). */
const alices: string[] = [];
const bobs: string[] = [];

function as<T = unknown>(key: string, path: string, json?: unknown) {
  return call<T>(`${gate.url}${path}`, { headers: { 'x-api-key': key }, json });
}

async function queue(key: string, into: string[]): Promise<void> {
  const res = await as<{ prompt_id: string }>(key, '/api/prompt', { prompt: SMALL_PROMPT });
  expect(res.status).toBe(200);
  into.push(res.body.prompt_id);
}

beforeAll(async () => {
  const key = async (name: string, role: string) =>
    (await as<{ key: string }>(gate.adminKey, '/gate/api/keys', { name, role })).body.key;
  alice = await key('alice', 'creator');
  bob = await key('bob', 'creator');
  olga = await key('olga', 'operator');
  for (let i = 0; i < 3; i++) await queue(alice, alices);
  // Far more of Bob's after Alice's: ComfyUI's newest pages hold none of hers.
  for (let i = 0; i < 300; i++) await queue(bob, bobs);
  for (let i = 0; i < 200; i++) {
    const history = await call<Record<string, unknown>>(`${fake.url}/history/${bobs[bobs.length - 1]}`);
    if (Object.keys(history.body).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the prompts never finished');
}, 60_000);

describe('/history?max_items=N', () => {
  it("holds up to N of the caller's own newest entries, however many of others' came after", async () => {
    const two = await as<Record<string, unknown>>(alice, '/api/history?max_items=2');
    expect(Object.keys(two.body)).toEqual(alices.slice(1));
    const many = await as<Record<string, unknown>>(alice, '/api/history?max_items=64');
    expect(Object.keys(many.body)).toEqual(alices);
    const bobsPage = await as<Record<string, unknown>>(bob, '/history?max_items=64');
    expect(Object.keys(bobsPage.body)).toEqual(bobs.slice(-64));
    const all = await as<Record<string, unknown>>(alice, '/api/history');
    expect(Object.keys(all.body)).toEqual(alices);
  });

  it('counts an offset from the oldest of their own entries', async () => {
    const page = await as<Record<string, unknown>>(alice, '/api/history?max_items=1&offset=1');
    expect(Object.keys(page.body)).toEqual([alices[1]]);
    const rest = await as<Record<string, unknown>>(bob, '/api/history?offset=298');
    expect(Object.keys(rest.body)).toEqual(bobs.slice(298));
  });

  it('leaves an operator, and values ComfyUI refuses, to ComfyUI', async () => {
    const olgas = await as<Record<string, unknown>>(olga, '/api/history?max_items=2');
    expect(Object.keys(olgas.body)).toEqual(bobs.slice(-2));
    expect((await as(alice, '/api/history?max_items=two')).status).toBe(500);
  });
});

describe('the jobs API', () => {
  it("pages over the caller's own jobs and counts only them", async () => {
    const page = await as<JobsAnswer>(alice, '/api/jobs?limit=2');
    expect(page.status).toBe(200);
    expect(page.body.jobs.map((job) => job.id)).toEqual(alices.slice(0, 2));
    expect(page.body.pagination).toEqual({ offset: 0, limit: 2, total: 3, has_more: true });
    const next = await as<JobsAnswer>(alice, '/api/jobs?limit=2&offset=2');
    expect(next.body.jobs.map((job) => job.id)).toEqual(alices.slice(2));
    expect(next.body.pagination).toEqual({ offset: 2, limit: 2, total: 3, has_more: false });
    const unpaged = await as<JobsAnswer>(alice, '/api/jobs');
    expect(unpaged.body.pagination).toEqual({ offset: 0, limit: null, total: 3, has_more: false });
    // ComfyUI's route is /api/jobs, so it also answers at /api/api/jobs.
    const twin = await as<JobsAnswer>(alice, '/api/api/jobs?limit=1');
    expect(twin.body.pagination.total).toBe(3);
    const olgas = await as<JobsAnswer>(olga, '/api/jobs?limit=1');
    expect(olgas.body.pagination.total).toBe(303);
    expect((await as(alice, '/api/jobs?limit=0')).status).toBe(400);
  });
});
