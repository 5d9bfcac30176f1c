import { describe, expect, it } from 'vitest';
import {
  FairQueue,
  FIRST_TAG,
  finishTag,
  GPU_SECONDS_PER_EXTRA_PROMPT,
  promptCost,
  startTag,
  TIE_STEP,
} from '../../server/fairness/fairQueue.js';
import { queuePlace, type QueueSnapshot } from '../../server/fairness/queueSnapshot.js';

const EMPTY: QueueSnapshot = { running: [], pending: [] };

function fairQueue(queue: QueueSnapshot = EMPTY): FairQueue {
  return new FairQueue({ readQueue: () => Promise.resolve(queue) });
}

/** Reserves and admits `count` prompts of `subject`, answering their numbers. */
function queued(fair: FairQueue, subject: string, weight: number, count: number): number[] {
  const numbers: number[] = [];
  for (let i = 0; i < count; i++) {
    const ticket = fair.reserve(subject, weight, 1);
    fair.admit(`${subject}-${fair.size}`, ticket);
    numbers.push(ticket.number);
  }
  return numbers;
}

describe('tag arithmetic', () => {
  it('starts at the later of the virtual time and the last finish tag', () => {
    expect(startTag(5, undefined)).toBe(5);
    expect(startTag(5, 3)).toBe(5);
    expect(startTag(5, 8)).toBe(8);
  });

  it("spaces a subject's prompts cost / weight apart", () => {
    expect(finishTag(2, 1, 1)).toBe(3);
    expect(finishTag(2, 1, 4)).toBe(2.25);
    expect(finishTag(2, 3, 2)).toBe(3.5);
  });

  it('costs one prompt, plus one per GPU_SECONDS_PER_EXTRA_PROMPT used today when weighting by GPU time', () => {
    expect(promptCost(1200, false)).toBe(1);
    expect(promptCost(0, true)).toBe(1);
    expect(promptCost(GPU_SECONDS_PER_EXTRA_PROMPT * 2, true)).toBe(3);
  });
});

describe('FairQueue', () => {
  it("puts a newcomer's prompt right after the lowest start tag, ties in arrival order", () => {
    const fair = fairQueue();
    const a = queued(fair, 'A', 1, 10);
    expect(a).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const [b] = queued(fair, 'B', 1, 1);
    expect(b).toBe(FIRST_TAG + TIE_STEP);
  });

  it('moves the virtual time on as prompts finish, and never back', () => {
    const fair = fairQueue();
    queued(fair, 'A', 1, 3);
    fair.finish('A-0');
    fair.finish('A-1');
    expect(fair.virtualTime()).toBe(3);
    fair.finish('A-2');
    expect(fair.virtualTime()).toBe(3);
    expect(fair.reserve('B', 1, 1).start).toBe(3);
  });

  it('gives a refused prompt its place back, unless a later prompt built on it', () => {
    const fair = fairQueue();
    const request = {};
    const first = fair.reserve('A', 1, 1);
    fair.hold(request, first);
    fair.settle(request, 400, 'p1');
    expect(fair.reserve('A', 1, 1).start).toBe(first.start);
    const held = fair.reserve('B', 1, 1);
    const next = fair.reserve('B', 1, 1);
    fair.cancel(held);
    expect(fair.reserve('B', 1, 1).start).toBe(next.finish);
  });

  it('settles a held ticket on 200 into the order', () => {
    const fair = fairQueue();
    const request = {};
    fair.hold(request, fair.reserve('A', 1, 1));
    fair.settle(request, 200, 'p1');
    expect(fair.size).toBe(1);
  });

  it("rebuilds from ComfyUI's queue: known starts, finish tags from the next prompt's weight, front items left out", async () => {
    const fair = fairQueue({
      running: [{ id: 'a1', owner: 'A', number: 4 }],
      pending: [
        { id: 'a2', owner: 'A', number: 5 },
        { id: 'a3', owner: 'A', number: 6 },
        { id: 'jump', owner: 'O', number: -2 },
        { id: 'foreign', owner: undefined, number: 7 },
      ],
    });
    await fair.ready();
    expect(fair.size).toBe(3);
    expect(fair.virtualTime()).toBe(4);
    expect(fair.reserve('A', 2, 1).start).toBe(6.5);
    expect(fair.reserve('B', 1, 1).number).toBe(4 + TIE_STEP);
  });

  it('drops what ComfyUI no longer holds, but keeps what was admitted while it asked', async () => {
    let answer: (queue: QueueSnapshot) => void = () => undefined;
    const fair = new FairQueue({ readQueue: () => new Promise((resolve) => (answer = resolve)) });
    const syncing = fair.sync();
    answer(EMPTY);
    await syncing;
    queued(fair, 'A', 1, 2);
    const second = fair.sync();
    queued(fair, 'B', 1, 1);
    answer({ running: [], pending: [{ id: 'A-1', owner: 'A', number: 2 }] });
    await second;
    expect(fair.size).toBe(2);
    expect(fair.virtualTime()).toBe(1);
  });
});

describe('queuePlace', () => {
  const queue: QueueSnapshot = {
    running: [{ id: 'r', owner: 'X', number: 1 }],
    pending: [
      { id: 'b', owner: 'B', number: 3 },
      { id: 'a2', owner: 'A', number: 2 },
      { id: 'a1', owner: 'A', number: 2 },
    ],
  };

  it("counts what runs before the caller's next prompt, ComfyUI's way (number, then prompt_id)", () => {
    expect(queuePlace(queue, 'B', 30)).toEqual({ running: false, position: 3, ahead: 3, startsInSeconds: 90 });
    expect(queuePlace(queue, 'A', undefined)).toEqual({
      running: false,
      position: 1,
      ahead: 1,
      startsInSeconds: null,
    });
    expect(queuePlace(queue, 'X', 30)).toEqual({ running: true, position: null, ahead: null, startsInSeconds: null });
  });
});
