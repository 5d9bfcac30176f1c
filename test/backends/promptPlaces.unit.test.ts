// Where a prompt is, as the health checks and the frames tell it (server/backends/promptPlaces.ts).
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../server/backends/backend.js';
import { PromptPlaces, type PromptPlace } from '../../server/backends/promptPlaces.js';

/** What observeQueue reads of a backend: its last queue. */
function backendWith(
  runningIds: string[],
  pendingIds: string[]
): Backend & { runningIds: string[]; pendingIds: string[] } {
  return { runningIds, pendingIds } as unknown as Backend & { runningIds: string[]; pendingIds: string[] };
}

function place(backend: Backend, state: PromptPlace['state']): PromptPlace {
  return { backend, clientId: 'c', state, stranded: false, body: Buffer.from('{}'), node: null, classes: {} };
}

describe('prompt places', () => {
  it('keeps a running prompt running when a queue read from before it started lists it as waiting', () => {
    const backend = backendWith([], ['p1']);
    const places = new PromptPlaces();
    // The execution_start frame came first; the /queue answer read a moment earlier arrives after it.
    places.set('p1', place(backend, 'running'));
    places.observeQueue(backend);
    expect(places.get('p1')?.state).toBe('running');
  });

  it('moves a placed prompt to waiting, then running, then done as the queue says', () => {
    const backend = backendWith([], ['p1']);
    const places = new PromptPlaces();
    places.set('p1', place(backend, 'placed'));
    places.observeQueue(backend);
    expect(places.get('p1')?.state).toBe('pending');
    backend.pendingIds = [];
    backend.runningIds = ['p1'];
    places.observeQueue(backend);
    expect(places.get('p1')?.state).toBe('running');
    backend.runningIds = [];
    places.observeQueue(backend);
    expect(places.get('p1')?.state).toBe('done');
  });
});
