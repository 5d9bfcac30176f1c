import { describe, expect, it } from 'vitest';
import type { QueuePlace } from '../../server/fairness/queueSnapshot.js';
import { withGateAndComfy, type GateAndComfy } from '../helpers/gateAndComfy.js';
import { call } from '../helpers/http.js';
import { SMALL_PROMPT } from '../helpers/prompts.js';

type Role = 'creator' | 'operator';

interface Queuer {
  key: string;
  /** Queues one prompt and remembers it under the queuer's letter. */
  queue(extra?: Record<string, unknown>): Promise<number>;
}

/**
 * A fresh gate per scenario (the virtual time starts at the same place), the fake's worker held while
 * prompts are queued, then let go: the order ComfyUI ran them in is read from its history.
 */
function scenario(pair: GateAndComfy) {
  const labels = new Map<string, string>();

  async function queuer(letter: string, role: Role, weight?: number): Promise<Queuer> {
    const created = await pair.admin<{ key: string }>('POST', '/gate/api/keys', {
      name: `fair ${letter}`,
      role,
      ...(weight === undefined ? {} : { limits: { weight } }),
    });
    expect(created.status).toBe(201);
    const key = created.body.key;
    return {
      key,
      async queue(extra = {}) {
        const res = await call<{ prompt_id: string; number: number }>(`${pair.gate.url}/api/prompt`, {
          headers: { 'x-api-key': key },
          json: { prompt: SMALL_PROMPT, ...extra },
        });
        expect(res.status).toBe(200);
        labels.set(res.body.prompt_id, letter);
        return res.body.number;
      },
    };
  }

  async function queueTimes(who: Queuer, times: number): Promise<void> {
    for (let i = 0; i < times; i++) await who.queue();
  }

  /** Lets ComfyUI run everything, then the letters of the queued prompts in the order they started. */
  async function runOrder(): Promise<string> {
    pair.fake.holdQueue(false);
    for (let i = 0; i < 400; i++) {
      const queue = await pair.admin<{ queue_running: unknown[]; queue_pending: unknown[] }>('GET', '/api/queue');
      if (queue.body.queue_running.length === 0 && queue.body.queue_pending.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const history = await pair.admin<Record<string, { status: { messages: Array<[string, { timestamp: number }]> } }>>(
      'GET',
      '/api/history'
    );
    const started = Object.entries(history.body)
      .filter(([id]) => labels.has(id))
      .map(([id, entry]) => {
        const start = entry.status.messages.find(([type]) => type === 'execution_start');
        return { letter: labels.get(id)!, at: start![1].timestamp };
      });
    expect(started).toHaveLength(labels.size);
    return started
      .sort((a, b) => a.at - b.at)
      .map((s) => s.letter)
      .join('');
  }

  return { queuer, queueTimes, runOrder, hold: () => pair.fake.holdQueue(true) };
}

describe('two keys: A holds 10 pending prompts, B queues one', () => {
  const pair = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
  const { queuer, queueTimes, runOrder, hold } = scenario(pair);

  it("B's prompt starts after at most one more of A's, and each sees their place in /queue", async () => {
    hold();
    const a = await queuer('A', 'creator');
    const b = await queuer('B', 'creator');
    await queueTimes(a, 10);
    await b.queue();

    const bQueue = await call<{ queue_pending: unknown[]; comfygate: QueuePlace }>(`${pair.gate.url}/api/queue`, {
      headers: { 'x-api-key': b.key },
    });
    expect(bQueue.body.queue_pending).toHaveLength(1);
    expect(bQueue.body.comfygate).toEqual({ running: false, position: 2, ahead: 1, startsInSeconds: null });
    const aPlace = await call<QueuePlace>(`${pair.gate.url}/gate/api/queue`, { headers: { 'x-api-key': a.key } });
    expect(aPlace.status).toBe(200);
    expect(aPlace.body).toEqual({ running: false, position: 1, ahead: 0, startsInSeconds: null });

    expect(await runOrder()).toBe('ABAAAAAAAAA');
    const after = await call<QueuePlace>(`${pair.gate.url}/gate/api/queue`, { headers: { 'x-api-key': b.key } });
    expect(after.body).toEqual({ running: false, position: null, ahead: null, startsInSeconds: null });
  });
});

describe('two keys weighted 2:1', () => {
  const pair = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
  const { queuer, queueTimes, runOrder, hold } = scenario(pair);

  it('interleave two of the heavier for one of the lighter, whoever queued first', async () => {
    hold();
    const a = await queuer('A', 'creator', 2);
    const b = await queuer('B', 'creator', 1);
    await queueTimes(a, 6);
    await queueTimes(b, 3);
    expect(await runOrder()).toBe('ABAABAABA');
  });
});

describe('three keys weighted 4:2:1', () => {
  const pair = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
  const { queuer, queueTimes, runOrder, hold } = scenario(pair);

  it('share the GPU 4:2:1 while all three have prompts waiting', async () => {
    hold();
    const a = await queuer('A', 'creator', 4);
    const b = await queuer('B', 'creator', 2);
    const c = await queuer('C', 'creator', 1);
    await queueTimes(a, 8);
    await queueTimes(b, 4);
    await queueTimes(c, 2);
    expect(await runOrder()).toBe('ABCAABAABCAABA');
  });
});

describe('queue jumping', () => {
  const pair = withGateAndComfy({ comfy: { nodeDelayMs: 5 }, gate: { mode: 'required' } });
  const { queuer, queueTimes, runOrder, hold } = scenario(pair);

  it("an operator's front goes first; a creator's front and number are replaced by the fair place", async () => {
    hold();
    const a = await queuer('A', 'creator');
    const b = await queuer('B', 'creator');
    const o = await queuer('O', 'operator');
    await queueTimes(a, 2);
    await queueTimes(b, 2);
    expect(await b.queue({ front: true })).toBeGreaterThanOrEqual(1);
    expect(await b.queue({ number: -100 })).toBeGreaterThanOrEqual(1);
    // ComfyUI's own answer to front: minus its counter, which the fair order never advanced.
    expect(await o.queue({ front: true })).toBe(0);
    expect(await runOrder()).toBe('OABABBB');
  });

  it('with the fair order off, ComfyUI numbers prompts first come, first served', async () => {
    expect((await pair.admin('PATCH', '/gate/api/settings', { fairQueue: { enabled: false } })).status).toBe(200);
    hold();
    const a = await queuer('C', 'creator');
    const b = await queuer('D', 'creator');
    await queueTimes(a, 3);
    await b.queue();
    expect(await runOrder()).toBe('OABABBBCCCD');
  });
});
