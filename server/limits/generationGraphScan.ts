import type { ShareLimits } from '../keys/keySchema.js';
import { isJsonObject } from '../pipeline/jsonMembers.js';
import type { CapInputs } from '../settings/settingsSchema.js';

/** The caps one prompt's graph is held to; null = none. */
export type GenerationCaps = Pick<ShareLimits, 'maxPixels' | 'maxBatch' | 'maxSteps' | 'maxFrames' | 'maxNodes'>;

/** One literal input value above its cap. */
export interface CapBreach {
  nodeId: string;
  classType: string;
  /** The input the error names (for an area, the width). */
  inputName: string;
  /** As sent: a number, or a numeric string ComfyUI would read as one. */
  received: unknown;
  /** What a person reads: the input, its value and the cap. */
  details: string;
}

export type GraphScan =
  | { outcome: 'fits' }
  /** More nodes than `maxNodes`: a refusal of the whole prompt, not of a node. */
  | { outcome: 'too_many_nodes'; nodes: number; limit: number }
  | { outcome: 'breaches'; breaches: CapBreach[] };

/** What a name in `capInputs` stands for; a name may stand for several. */
const WIDTH = 1;
const HEIGHT = 2;
const BATCH = 4;
const STEPS = 8;
const FRAMES = 16;

/** Input name → the kinds it counts as. */
export type CapInputIndex = ReadonlyMap<string, number>;

const indexes = new WeakMap<CapInputs, CapInputIndex>();

/** The lookup table for a `capInputs` setting, built once per settings value. */
export function capInputIndex(inputs: CapInputs): CapInputIndex {
  let index = indexes.get(inputs);
  if (index) return index;
  const built = new Map<string, number>();
  const add = (names: readonly string[], kind: number): void => {
    for (const name of names) built.set(name, (built.get(name) ?? 0) | kind);
  };
  add(inputs.width, WIDTH);
  add(inputs.height, HEIGHT);
  add(inputs.batch, BATCH);
  add(inputs.steps, STEPS);
  add(inputs.frames, FRAMES);
  indexes.set(inputs, built);
  index = built;
  return index;
}

const FITS: GraphScan = { outcome: 'fits' };

/**
 * Holds an API-format graph (`{id: {class_type, inputs}}`) to the caps, reading only literal input
 * values: a number, or a numeric string (ComfyUI's validation turns `"80"` into 80). A linked input
 * (`[node_id, index]`) holds no value until the graph runs, so it is never checked. Anything that
 * is not a graph passes: ComfyUI refuses it in its own words.
 */
export function scanGeneration(prompt: unknown, caps: GenerationCaps, index: CapInputIndex): GraphScan {
  if (!isJsonObject(prompt)) return FITS;
  if (caps.maxNodes !== null) {
    let nodes = 0;
    for (const id in prompt) if (Object.hasOwn(prompt, id)) nodes++;
    if (nodes > caps.maxNodes) return { outcome: 'too_many_nodes', nodes, limit: caps.maxNodes };
  }
  if (caps.maxPixels === null && caps.maxBatch === null && caps.maxSteps === null && caps.maxFrames === null) {
    return FITS;
  }
  let breaches: CapBreach[] | undefined;
  for (const nodeId in prompt) {
    if (!Object.hasOwn(prompt, nodeId)) continue;
    const node = prompt[nodeId];
    if (!isJsonObject(node)) continue;
    const inputs = node['inputs'];
    if (!isJsonObject(inputs)) continue;
    const classType = typeof node['class_type'] === 'string' ? node['class_type'] : '';
    let width: Literal | undefined;
    let height: Literal | undefined;
    for (const name in inputs) {
      const kinds = index.get(name);
      if (kinds === undefined || !Object.hasOwn(inputs, name)) continue;
      const raw = inputs[name];
      const value = literalNumber(raw);
      if (value === undefined) continue;
      const breach = (limit: number | null, unit: string): void => {
        if (limit === null || value <= limit) return;
        (breaches ??= []).push({
          nodeId,
          classType,
          inputName: name,
          received: raw,
          details: `${name}: ${value} is above this key's cap of ${limit} ${unit}`,
        });
      };
      if (kinds & BATCH) breach(caps.maxBatch, 'per batch');
      if (kinds & STEPS) breach(caps.maxSteps, 'steps');
      if (kinds & FRAMES) breach(caps.maxFrames, 'frames');
      if (kinds & WIDTH && (width === undefined || value > width.value)) width = { name, raw, value };
      if (kinds & HEIGHT && (height === undefined || value > height.value)) height = { name, raw, value };
    }
    if (caps.maxPixels !== null && width !== undefined && height !== undefined) {
      const area = width.value * height.value;
      if (area > caps.maxPixels) {
        (breaches ??= []).push({
          nodeId,
          classType,
          inputName: width.name,
          received: width.raw,
          details: `${width.name} × ${height.name}: ${width.value} × ${height.value} = ${area} pixels is above this key's cap of ${caps.maxPixels} pixels`,
        });
      }
    }
  }
  return breaches === undefined ? FITS : { outcome: 'breaches', breaches };
}

interface Literal {
  name: string;
  raw: unknown;
  value: number;
}

function literalNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
