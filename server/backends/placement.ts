/** `/object_info` as a backend answered it: node class → its description (inputs and their choices). */
export type NodeCatalog = Record<string, unknown>;

/** What a prompt needs of the backend that runs it. */
export interface GraphNeeds {
  classes: string[];
  /** Model files the graph names: an input called `*_name` given as text (`ckpt_name`, `lora_name`…). */
  files: Array<{ classType: string; input: string; value: string }>;
}

export interface Placeable {
  readonly reachable: boolean;
  readonly load: number;
  readonly catalog: NodeCatalog | undefined;
}

/** The node classes and model files of an API-format graph (`{id: {class_type, inputs}}`). */
export function graphNeeds(prompt: unknown): GraphNeeds {
  const classes = new Set<string>();
  const files: GraphNeeds['files'] = [];
  if (!isRecord(prompt)) return { classes: [], files };
  for (const node of Object.values(prompt)) {
    if (!isRecord(node) || typeof node['class_type'] !== 'string') continue;
    const classType = node['class_type'];
    classes.add(classType);
    if (!isRecord(node['inputs'])) continue;
    for (const [input, value] of Object.entries(node['inputs'])) {
      if (input.endsWith('_name') && typeof value === 'string') files.push({ classType, input, value });
    }
  }
  return { classes: [...classes], files };
}

/**
 * Whether a backend can run the graph: every node class is in its catalog, and every named model file is
 * among the choices it lists for that input. An unknown catalog (not fetched yet) does not rule it out.
 */
export function canRun(catalog: NodeCatalog | undefined, needs: GraphNeeds): boolean {
  if (catalog === undefined) return true;
  if (!needs.classes.every((name) => name in catalog)) return false;
  return needs.files.every(({ classType, input, value }) => {
    const choices = choicesOf(catalog[classType], input);
    return choices === undefined || choices.includes(value);
  });
}

/**
 * The reachable backend that can run the graph with the least work ahead per unit of weight; the first
 * listed wins a tie. When none can run it, the least busy reachable one, so ComfyUI's own validation
 * error tells the client what is missing.
 */
export function pickBackend<T extends Placeable>(backends: readonly T[], needs: GraphNeeds): T | undefined {
  const reachable = backends.filter((backend) => backend.reachable);
  const able = reachable.filter((backend) => canRun(backend.catalog, needs));
  return leastLoaded(able.length > 0 ? able : reachable);
}

function leastLoaded<T extends Placeable>(backends: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const backend of backends) if (best === undefined || backend.load < best.load) best = backend;
  return best;
}

/** The choices of a combo input: `[[choices…], {…}]`, or `["COMBO", {options: [choices…]}]` in newer builds. */
function choicesOf(nodeInfo: unknown, input: string): string[] | undefined {
  if (!isRecord(nodeInfo) || !isRecord(nodeInfo['input'])) return undefined;
  const inputs = nodeInfo['input'];
  const spec = [inputs['required'], inputs['optional']]
    .map((group) => (isRecord(group) ? group[input] : undefined))
    .find((found) => found !== undefined);
  if (!Array.isArray(spec)) return undefined;
  const [type, options] = spec as unknown[];
  if (Array.isArray(type)) return type.filter((choice): choice is string => typeof choice === 'string');
  if (type === 'COMBO' && isRecord(options) && Array.isArray(options['options'])) {
    return options['options'].filter((choice): choice is string => typeof choice === 'string');
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
