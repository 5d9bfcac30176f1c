// The graph scanner behind the generation caps (server/limits/generationGraphScan.ts).
import { describe, expect, it } from 'vitest';
import {
  capInputIndex,
  scanGeneration,
  type GenerationCaps,
  type GraphScan,
} from '../../server/limits/generationGraphScan.js';
import { DEFAULT_SETTINGS } from '../../server/settings/settingsSchema.js';

const NONE: GenerationCaps = { maxPixels: null, maxBatch: null, maxSteps: null, maxFrames: null, maxNodes: null };
const INDEX = capInputIndex(DEFAULT_SETTINGS.capInputs);

function scan(prompt: unknown, caps: Partial<GenerationCaps>): GraphScan {
  return scanGeneration(prompt, { ...NONE, ...caps }, INDEX);
}

/** node id → input names breached, in order. */
function breached(result: GraphScan): Record<string, string[]> {
  if (result.outcome !== 'breaches') return {};
  const out: Record<string, string[]> = {};
  for (const b of result.breaches) (out[b.nodeId] ??= []).push(b.inputName);
  return out;
}

describe('scanning a graph for generation caps', () => {
  it('passes anything that is no graph: ComfyUI refuses it in its own words', () => {
    for (const prompt of [undefined, null, 42, 'graph', [{ inputs: { steps: 99 } }]]) {
      expect(scan(prompt, { maxSteps: 1, maxNodes: 0 })).toEqual({ outcome: 'fits' });
    }
  });

  it('skips nodes and inputs that are not objects', () => {
    const prompt = { '1': 'node', '2': null, '3': { class_type: 'KSampler', inputs: [80] }, '4': { inputs: 'steps' } };
    expect(scan(prompt, { maxSteps: 1 })).toEqual({ outcome: 'fits' });
  });

  it('reads numeric strings as ComfyUI does, and ignores other strings, booleans and non-finite text', () => {
    const prompt = {
      '1': { class_type: 'A', inputs: { steps: ' 80 ' } },
      '2': { class_type: 'B', inputs: { steps: 'many' } },
      '3': { class_type: 'C', inputs: { steps: true } },
      '4': { class_type: 'D', inputs: { steps: 'Infinity' } },
      '5': { class_type: 'E', inputs: { steps: '' } },
    };
    const result = scan(prompt, { maxSteps: 40 });
    expect(breached(result)).toEqual({ '1': ['steps'] });
    expect(result.outcome === 'breaches' && result.breaches[0]).toMatchObject({ classType: 'A', received: ' 80 ' });
  });

  it('never checks a linked input: its value exists only when the graph runs', () => {
    const prompt = {
      '1': { class_type: 'KSampler', inputs: { steps: ['9', 0] } },
      '2': { class_type: 'EmptyLatentImage', inputs: { width: ['9', 1], height: 100000 } },
    };
    expect(scan(prompt, { maxSteps: 1, maxPixels: 1 })).toEqual({ outcome: 'fits' });
  });

  it('counts the area of one node only, and a value at the cap fits', () => {
    const prompt = {
      '1': { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024 } },
      '2': { class_type: 'Resize', inputs: { width: 4096 } },
      '3': { class_type: 'Other', inputs: { height: 4096 } },
    };
    expect(scan(prompt, { maxPixels: 1024 * 1024 })).toEqual({ outcome: 'fits' });
    expect(breached(scan(prompt, { maxPixels: 1024 * 1023 }))).toEqual({ '1': ['width'] });
  });

  it('reports every breached input of a node, each against its own cap', () => {
    const prompt = { '7': { class_type: 'Video', inputs: { batch_size: 2, steps: 30, length: 97, frames: 10 } } };
    expect(breached(scan(prompt, { maxBatch: 1, maxSteps: 20, maxFrames: 48 }))).toEqual({
      '7': ['batch_size', 'steps', 'length'],
    });
  });

  it('refuses too many nodes as a whole before looking at any input', () => {
    const prompt = { '1': { inputs: { steps: 99 } }, '2': {}, '3': {} };
    expect(scan(prompt, { maxNodes: 2, maxSteps: 1 })).toEqual({ outcome: 'too_many_nodes', nodes: 3, limit: 2 });
    expect(scan(prompt, { maxNodes: 3 })).toEqual({ outcome: 'fits' });
  });

  it('takes its input names from the setting, one name standing for several kinds', () => {
    const index = capInputIndex({ ...DEFAULT_SETTINGS.capInputs, steps: ['n'], frames: ['n'] });
    const result = scanGeneration(
      { '1': { inputs: { n: 100, steps: 100 } } },
      { ...NONE, maxSteps: 50, maxFrames: 50 },
      index
    );
    expect(result.outcome === 'breaches' && result.breaches.map((b) => b.details)).toEqual([
      "n: 100 is above this key's cap of 50 steps",
      "n: 100 is above this key's cap of 50 frames",
    ]);
    expect(capInputIndex(DEFAULT_SETTINGS.capInputs)).toBe(INDEX);
  });

  it('scans a huge graph whole, finding the one offending node among 100000', () => {
    const prompt: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) {
      prompt[String(i)] = { class_type: 'KSampler', inputs: { steps: i === 77_777 ? 41 : 20, model: ['1', 0] } };
    }
    expect(breached(scan(prompt, { maxSteps: 40, maxNodes: 100_000 }))).toEqual({ '77777': ['steps'] });
  });
});
