import { describe, expect, it } from 'vitest';
import { FairQueue, FIRST_TAG } from '../../server/fairness/fairQueue.js';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('FairQueue virtual time', () => {
  it('is the lowest start tag still queued (never going back), whatever order prompts finish in', () => {
    const next = random(7);
    const fair = new FairQueue({ readQueue: () => Promise.resolve({ running: [], pending: [] }) });
    const starts = new Map<string, number>();
    let expected = FIRST_TAG;
    let sent = 0;
    for (let step = 0; step < 5_000; step++) {
      if (starts.size === 0 || next() < 0.55) {
        const subject = `key_${Math.floor(next() * 4)}`;
        const ticket = fair.reserve(subject, 1 + Math.floor(next() * 3), 1);
        const id = `p${sent++}`;
        fair.admit(id, ticket);
        starts.set(id, ticket.start);
      } else {
        // The running prompt usually finishes first; sometimes a pending one is deleted.
        const ids = [...starts.keys()];
        const id = next() < 0.8 ? ids[0]! : ids[Math.floor(next() * ids.length)]!;
        fair.finish(id);
        starts.delete(id);
      }
      if (starts.size > 0) expected = Math.max(expected, Math.min(...starts.values()));
      expect(fair.virtualTime()).toBe(expected);
    }
  });

  it('sees the start tags a rebuild from ComfyUI’s queue brings in', () => {
    const fair = new FairQueue({ readQueue: () => Promise.resolve({ running: [], pending: [] }) });
    fair.apply(
      {
        running: [{ id: 'a', owner: 'key_a', number: 7 }],
        pending: [
          { id: 'b', owner: 'key_b', number: 9 },
          { id: 'c', owner: 'key_a', number: 8 },
        ],
      },
      1
    );
    expect(fair.virtualTime()).toBe(7);
    fair.finish('a');
    expect(fair.virtualTime()).toBe(8);
    fair.apply({ running: [{ id: 'b', owner: 'key_b', number: 9 }], pending: [] }, 2);
    expect(fair.virtualTime()).toBe(9);
  });
});
