import { describe, expect, it } from 'vitest';
import { canRun, graphNeeds, pickBackend, type NodeCatalog, type Placeable } from '../../server/backends/placement.js';

const catalog = (models: string[], classes: string[] = ['CheckpointLoaderSimple', 'SaveImage']): NodeCatalog =>
  Object.fromEntries(
    classes.map((name) => [
      name,
      name === 'CheckpointLoaderSimple' ? { input: { required: { ckpt_name: [models, {}] } } } : { input: {} },
    ])
  );

const graph = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
  '9': { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'x' } },
};

function backend(
  name: string,
  load: number,
  nodes: NodeCatalog | undefined,
  reachable = true
): Placeable & { name: string } {
  return { name, load, catalog: nodes, reachable };
}

describe('placement', () => {
  it('reads the node classes and the named model files of a graph', () => {
    expect(graphNeeds(graph)).toEqual({
      classes: ['CheckpointLoaderSimple', 'SaveImage'],
      files: [{ classType: 'CheckpointLoaderSimple', input: 'ckpt_name', value: 'sdxl.safetensors' }],
    });
    expect(graphNeeds('not a graph')).toEqual({ classes: [], files: [] });
  });

  it('needs every node class and every named model file, in either combo form', () => {
    const needs = graphNeeds(graph);
    expect(canRun(catalog(['sdxl.safetensors']), needs)).toBe(true);
    expect(canRun(catalog(['sd15.safetensors']), needs)).toBe(false);
    expect(canRun(catalog(['sdxl.safetensors'], ['CheckpointLoaderSimple']), needs)).toBe(false);
    const newer: NodeCatalog = {
      CheckpointLoaderSimple: { input: { required: { ckpt_name: ['COMBO', { options: ['sdxl.safetensors'] }] } } },
      SaveImage: { input: {} },
    };
    expect(canRun(newer, needs)).toBe(true);
    // Not fetched yet: not ruled out.
    expect(canRun(undefined, needs)).toBe(true);
  });

  it('picks the least loaded reachable backend that can run the graph, the first listed on a tie', () => {
    const needs = graphNeeds(graph);
    const busy = backend('busy', 3, catalog(['sdxl.safetensors']));
    const idle = backend('idle', 1, catalog(['sdxl.safetensors']));
    const lacking = backend('lacking', 0.5, catalog(['sd15.safetensors']));
    const down = backend('down', 0, catalog(['sdxl.safetensors']), false);
    expect(pickBackend([busy, idle, lacking, down], needs)?.name).toBe('idle');
    expect(pickBackend([idle, backend('same', 1, undefined)], needs)?.name).toBe('idle');
    // None can run it: the least busy reachable one, whose own validation error names what is missing.
    expect(pickBackend([busy, lacking, down], graphNeeds({ '1': { class_type: 'Nowhere', inputs: {} } }))?.name).toBe(
      'lacking'
    );
    expect(pickBackend([down], needs)).toBeUndefined();
  });
});
