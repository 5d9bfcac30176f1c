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
  const breaches: CapBreach[] = [];
  for (const nodeId in prompt) {
    if (!Object.hasOwn(prompt, nodeId)) continue;
    const node = prompt[nodeId];
    if (!isJsonObject(node)) continue;
    const inputs = node['inputs'];
    if (!isJsonObject(inputs)) continue;
    // The widest width and tallest height of the node: scalars, so a small graph allocates nothing.
    let width = -1;
    let widthName = '';
    let widthRaw: unknown;
    let height = -1;
    let heightName = '';
    for (const name in inputs) {
      const kinds = index.get(name);
      if (kinds === undefined || !Object.hasOwn(inputs, name)) continue;
      const raw = inputs[name];
      const value = literalNumber(raw);
      if (value === undefined) continue;
      if (kinds & BATCH && isOver(value, caps.maxBatch)) {
        breaches.push(
          breachOf(nodeId, node, name, raw, `${value} is above this key's cap of ${caps.maxBatch} per batch`)
        );
      }
      if (kinds & STEPS && isOver(value, caps.maxSteps)) {
        breaches.push(breachOf(nodeId, node, name, raw, `${value} is above this key's cap of ${caps.maxSteps} steps`));
      }
      if (kinds & FRAMES && isOver(value, caps.maxFrames)) {
        breaches.push(
          breachOf(nodeId, node, name, raw, `${value} is above this key's cap of ${caps.maxFrames} frames`)
        );
      }
      if (kinds & WIDTH && value > width) {
        width = value;
        widthName = name;
        widthRaw = raw;
      }
      if (kinds & HEIGHT && value > height) {
        height = value;
        heightName = name;
      }
    }
    if (caps.maxPixels !== null && width >= 0 && height >= 0 && width * height > caps.maxPixels) {
      breaches.push(
        breachOf(
          nodeId,
          node,
          `${widthName} × ${heightName}`,
          widthRaw,
          `${width} × ${height} = ${width * height} pixels is above this key's cap of ${caps.maxPixels} pixels`,
          widthName
        )
      );
    }
  }
  return breaches.length === 0 ? FITS : { outcome: 'breaches', breaches };
}

function isOver(value: number, limit: number | null): boolean {
  return limit !== null && value > limit;
}

/** `what` names the input(s) in the details; `inputName` is the one the error points at. */
function breachOf(
  nodeId: string,
  node: Record<string, unknown>,
  what: string,
  received: unknown,
  overBy: string,
  inputName = what
): CapBreach {
  const classType = node['class_type'];
  return {
    nodeId,
    classType: typeof classType === 'string' ? classType : '',
    inputName,
    received,
    details: `${what}: ${overBy}`,
  };
}

function literalNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
