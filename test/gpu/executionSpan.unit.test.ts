import { describe, expect, it } from 'vitest';
import { executionSpan } from '../../server/gpu/executionSpan.js';

const ID = 'p1';

function answer(messages: unknown[], extraData: unknown = { client_id: 'c', comfygate_owner: 'key_a' }): unknown {
  return {
    [ID]: {
      prompt: [3, ID, {}, extraData, ['9']],
      outputs: {},
      status: { status_str: 'success', completed: true, messages },
      meta: {},
    },
  };
}

describe('executionSpan: a /history/{id} answer to seconds', () => {
  it('runs from execution_start to execution_success, by ComfyUI’s millisecond timestamps', () => {
    const span = executionSpan(
      answer([
        ['execution_start', { prompt_id: ID, timestamp: 1760200000000 }],
        ['execution_cached', { nodes: [], prompt_id: ID, timestamp: 1760200000001 }],
        ['execution_success', { prompt_id: ID, timestamp: 1760200004250 }],
      ]),
      ID
    );
    expect(span).toEqual({ seconds: 4.25, outcome: 'success', owner: 'key_a' });
  });

  it.each([
    ['execution_error', 'error'],
    ['execution_interrupted', 'interrupted'],
  ] as const)('ends at %s', (type, outcome) => {
    const span = executionSpan(
      answer([
        ['execution_start', { prompt_id: ID, timestamp: 1000 }],
        [type, { prompt_id: ID, node_id: '3', timestamp: 3500 }],
      ]),
      ID
    );
    expect(span).toMatchObject({ seconds: 2.5, outcome });
  });

  it('an error without a timestamp (ExecutionBlocked) ends at the latest timestamp', () => {
    const span = executionSpan(
      answer([
        ['execution_start', { prompt_id: ID, timestamp: 1000 }],
        ['execution_cached', { nodes: [], prompt_id: ID, timestamp: 1800 }],
        ['execution_error', { prompt_id: ID, traceback: [] }],
      ]),
      ID
    );
    expect(span).toMatchObject({ seconds: 0.8, outcome: 'error' });
  });

  it('skips messages of other shapes and counts 0 without a start', () => {
    const span = executionSpan(answer([['custom', 'text'], 42, ['execution_success', { timestamp: 5 }]]), ID);
    expect(span).toMatchObject({ seconds: 0, outcome: 'success' });
  });

  it('has no owner for a prompt that did not come through the gate', () => {
    expect(executionSpan(answer([], { client_id: 'c' }), ID)?.owner).toBeUndefined();
  });

  it.each([
    ['an empty answer (not in the history yet)', {}],
    ['another prompt’s entry', { other: {} }],
    ['an entry without status', { [ID]: { prompt: [] } }],
    ['not an object', 'nope'],
    ['null', null],
  ])('is undefined for %s', (_, body) => {
    expect(executionSpan(body, ID)).toBeUndefined();
  });

  it('does not read a prompt id from the prototype', () => {
    expect(executionSpan({}, 'constructor')).toBeUndefined();
  });
});
