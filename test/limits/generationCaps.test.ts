// Generation caps on POST /prompt (server/limits/generationCapsCheck.ts): refused in ComfyUI's own
// validation shape, naming node and input; passing graphs reach ComfyUI byte for byte.
import { describe, expect, it } from 'vitest';
import { objectMembers } from '../../server/pipeline/jsonMembers.js';
import { call } from '../helpers/http.js';
import { withGateAndComfy } from '../helpers/gateAndComfy.js';

const { fake, gate, admin } = withGateAndComfy({ gate: { mode: 'required' } });

interface Refusal {
  error: { type: string; message: string; details: string; extra_info: object; code: string; requestId: string };
  node_errors: Record<
    string,
    {
      errors: Array<{ type: string; message: string; details: string; extra_info: Record<string, unknown> }>;
      dependent_outputs: string[];
      class_type: string;
    }
  >;
}

async function keyWith(limits: Record<string, unknown>, role = 'creator'): Promise<string> {
  const res = await admin<{ key: string }>('POST', '/gate/api/keys', { name: 'capped', role, limits });
  expect(res.status).toBe(201);
  return res.body.key;
}

function queue(key: string | undefined, prompt: unknown) {
  return call<Refusal>(`${gate.url}/api/prompt`, {
    headers: key === undefined ? {} : { 'x-api-key': key },
    json: { prompt },
  });
}

function promptsForwarded(): number {
  return fake.requests.filter((r) => r.method === 'POST' && r.rawUrl.endsWith('/prompt')).length;
}

const SAMPLER = (steps: unknown) => ({ class_type: 'KSampler', inputs: { steps, seed: 1, model: ['4', 0] } });

describe('generation caps', () => {
  it('refuses steps above the cap with a node_errors entry naming the node and input, before ComfyUI sees it', async () => {
    const key = await keyWith({ maxSteps: 40 });
    const before = promptsForwarded();
    const res = await queue(key, { '3': SAMPLER(80) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        type: 'prompt_outputs_failed_validation',
        message: 'Prompt outputs failed validation',
        details: "steps: 80 is above this key's cap of 40 steps",
        extra_info: {},
        code: 'generation_cap',
        requestId: res.body.error.requestId,
      },
      node_errors: {
        '3': {
          errors: [
            {
              type: 'value_bigger_than_max',
              message: 'Value bigger than max',
              details: "steps: 80 is above this key's cap of 40 steps",
              extra_info: { input_name: 'steps', received_value: 80 },
            },
          ],
          dependent_outputs: [],
          class_type: 'KSampler',
        },
      },
    });
    expect(res.body.error.requestId).toMatch(/\S/);
    expect(promptsForwarded()).toBe(before);
  });

  it('refuses each kind of input: area, batch, frames; one entry per offending node, numeric strings as sent', async () => {
    const key = await keyWith({ maxPixels: 1024 * 1024, maxBatch: 4, maxFrames: 49 });
    const res = await queue(key, {
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 2048, height: 1024, batch_size: '8' } },
      '6': { class_type: 'EmptyHunyuanLatentVideo', inputs: { width: 512, height: 512, length: 121 } },
      '7': { class_type: 'WanImageToVideo', inputs: { num_frames: 81, width: ['5', 0], height: 4096 } },
      '8': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    });
    expect(res.status).toBe(400);
    const errors = Object.fromEntries(
      Object.entries(res.body.node_errors).map(([id, entry]) => [
        id,
        [entry.class_type, entry.errors.map((e) => [e.extra_info['input_name'], e.extra_info['received_value']])],
      ])
    );
    expect(errors).toEqual({
      '5': [
        'EmptyLatentImage',
        [
          ['batch_size', '8'],
          ['width', 2048],
        ],
      ],
      '6': ['EmptyHunyuanLatentVideo', [['length', 121]]],
      '7': ['WanImageToVideo', [['num_frames', 81]]],
    });
    expect(res.body.node_errors['5']!.errors[1]!.details).toBe(
      "width × height: 2048 × 1024 = 2097152 pixels is above this key's cap of 1048576 pixels"
    );
    expect(res.body.error.details).toContain("length: 121 is above this key's cap of 49 frames");
  });

  it('refuses a prompt with more nodes than maxNodes as a whole, with a clear message', async () => {
    const key = await keyWith({ maxNodes: 2 });
    const res = await queue(key, { '1': SAMPLER(1), '2': SAMPLER(1), '3': SAMPLER(1) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('generation_cap');
    expect(res.body.error.message).toBe("This prompt has 3 nodes, above this key's cap of 2 nodes per prompt");
    expect(res.body.node_errors).toEqual({});
  });

  it('forwards a graph within the caps byte for byte', async () => {
    const key = await keyWith({ maxPixels: 512 * 512, maxBatch: 4, maxSteps: 10, maxFrames: 10, maxNodes: 5 });
    const graph =
      '{ "1" : {"class_type":"EmptyImage","inputs":{"width":64,  "height": 64.0,"batch_size":"1","color":0}},\n' +
      '"2":{"class_type":"SaveImage","inputs":{"images":["1",0],"filename_prefix":"caps\\u00e9"}} }';
    const res = await call(`${gate.url}/api/prompt`, {
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: `{"prompt": ${graph}, "extra_data": {"seed": 18446744073709551615}}`,
    });
    expect(res.status).toBe(200);
    const received = fake.lastPromptBody()!;
    const member = objectMembers(received)!.find((m) => m.key === 'prompt')!;
    expect(received.subarray(member.valueStart, member.valueEnd).equals(Buffer.from(graph))).toBe(true);
    expect(received.toString()).toContain('18446744073709551615');
  });

  it("applies the role's default where the key has none, and the key's own over it", async () => {
    const patched = await admin('PATCH', '/gate/api/settings', { roleLimits: { creator: { maxBatch: 2 } } });
    expect(patched.status).toBe(200);
    try {
      const plain = await keyWith({});
      const refused = await queue(plain, { '1': { class_type: 'EmptyImage', inputs: { batch_size: 3 } } });
      expect(refused.status).toBe(400);
      expect(refused.body.node_errors['1']!.errors[0]!.details).toBe(
        "batch_size: 3 is above this key's cap of 2 per batch"
      );
      const own = await keyWith({ maxBatch: 8 });
      const graph = {
        '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 3, color: 0 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'caps' } },
      };
      expect((await queue(own, graph)).status).toBe(200);
      const viewerRole = await keyWith({}, 'operator');
      expect((await queue(viewerRole, graph)).status).toBe(200);
    } finally {
      await admin('PATCH', '/gate/api/settings', { roleLimits: { creator: { maxBatch: null } } });
    }
  });

  it('holds callers without a key to the anonymous tier', async () => {
    const patched = await admin('PATCH', '/gate/api/settings', { anonymous: { limits: { maxSteps: 20 } } });
    expect(patched.status).toBe(200);
    await gate.setMode('optional');
    try {
      const res = await queue(undefined, { '9': SAMPLER('25') });
      expect(res.status).toBe(400);
      expect(res.body.node_errors['9']!.errors[0]!.extra_info).toEqual({ input_name: 'steps', received_value: '25' });
    } finally {
      await gate.setMode('required');
      await admin('PATCH', '/gate/api/settings', { anonymous: { limits: { maxSteps: null } } });
    }
  });

  it('reads the input names from the capInputs setting', async () => {
    const key = await keyWith({ maxSteps: 30 });
    const patched = await admin<{ capInputs: Record<string, string[]> }>('PATCH', '/gate/api/settings', {
      capInputs: { steps: ['steps', 'num_inference_steps'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.capInputs['steps']).toEqual(['steps', 'num_inference_steps']);
    expect(patched.body.capInputs['batch']).toEqual(['batch_size']);
    try {
      const res = await queue(key, { '4': { class_type: 'DiffusersSampler', inputs: { num_inference_steps: 50 } } });
      expect(res.status).toBe(400);
      expect(res.body.node_errors['4']!.errors[0]!.extra_info['input_name']).toBe('num_inference_steps');
    } finally {
      await admin('PATCH', '/gate/api/settings', { capInputs: { steps: ['steps'] } });
    }
    const bad = await admin<{ error: { fields: Record<string, string> } }>('PATCH', '/gate/api/settings', {
      capInputs: { frames: ['num frames'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual({ 'capInputs.frames.0': 'an input name has no spaces' });
  });
});

describe('the new limits through the REST API', () => {
  it('creates and updates a key with GPU-share limits, null lifting one', async () => {
    const created = await admin<{ id: string; limits: Record<string, number | null> }>('POST', '/gate/api/keys', {
      name: 'share',
      limits: { maxSteps: 30, weight: 1.5, gpuSecondsPerDay: 600, maxPixels: 1048576, maxNodes: 50 },
    });
    expect(created.status).toBe(201);
    expect(created.body.limits).toMatchObject({
      maxSteps: 30,
      weight: 1.5,
      gpuSecondsPerDay: 600,
      maxPixels: 1048576,
      maxNodes: 50,
      maxBatch: null,
      maxFrames: null,
    });
    const updated = await admin<{ limits: Record<string, number | null> }>(
      'PATCH',
      `/gate/api/keys/${created.body.id}`,
      { limits: { maxSteps: null, maxFrames: 121 } }
    );
    expect(updated.status).toBe(200);
    expect(updated.body.limits).toMatchObject({ maxSteps: null, maxFrames: 121, weight: 1.5 });
  });

  it('refuses bad values with the field named', async () => {
    const res = await admin<{ error: { fields: Record<string, string> } }>('POST', '/gate/api/keys', {
      name: 'bad',
      limits: { maxSteps: 2.5, weight: 0, maxPixels: -1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual({
      'limits.maxSteps': 'expected a whole number',
      'limits.weight': 'expected a positive number',
      'limits.maxPixels': 'expected a positive number',
    });
  });

  it('takes role defaults in the settings, null taking one away', async () => {
    const res = await admin<{ roleLimits: Record<string, Record<string, number>> }>('PATCH', '/gate/api/settings', {
      roleLimits: { viewer: { maxSteps: 20, weight: 0.5 } },
    });
    expect(res.status).toBe(200);
    expect(res.body.roleLimits['viewer']).toEqual({ maxSteps: 20, weight: 0.5 });
    const cleared = await admin<{ roleLimits: Record<string, Record<string, number>> }>('PATCH', '/gate/api/settings', {
      roleLimits: { viewer: { maxSteps: null, weight: null } },
    });
    expect(cleared.body.roleLimits['viewer']).toEqual({});
    const bad = await admin('PATCH', '/gate/api/settings', { roleLimits: { viewer: { perMinute: 5 } } });
    expect(bad.status).toBe(400);
  });
});
