import { describe, expect, it } from 'vitest';
import {
  mergeExecInfo,
  mergeHistories,
  mergeObjectInfo,
  mergeQueues,
  mergeSystemStats,
} from '../../server/backends/mergedAnswers.js';

const entry = (timestamp: number) => ({
  outputs: {},
  status: { messages: [['execution_start', { prompt_id: 'x', timestamp }]] },
});

describe('merged answers of several backends', () => {
  it('merges queues: all running, pending in priority order', () => {
    const merged = mergeQueues([
      { queue_running: [[1, 'a']], queue_pending: [[5, 'c']] },
      {
        queue_running: [[2, 'b']],
        queue_pending: [
          [3, 'd'],
          [9, 'e'],
        ],
      },
    ]);
    expect(merged).toEqual({
      queue_running: [
        [1, 'a'],
        [2, 'b'],
      ],
      queue_pending: [
        [3, 'd'],
        [5, 'c'],
        [9, 'e'],
      ],
    });
  });

  it('sums the work left', () => {
    expect(mergeExecInfo([{ exec_info: { queue_remaining: 2 } }, { exec_info: { queue_remaining: 3 } }])).toEqual({
      exec_info: { queue_remaining: 5 },
    });
  });

  it('merges histories oldest first and keeps the newest max_items', () => {
    const merged = mergeHistories([{ p1: entry(10), p3: entry(30) }, { p2: entry(20) }], 2);
    expect(Object.keys(merged)).toEqual(['p2', 'p3']);
    expect(Object.keys(mergeHistories([{ p3: entry(30) }, { p1: entry(10) }], undefined))).toEqual(['p1', 'p3']);
  });

  it('unites node catalogs and devices', () => {
    expect(
      Object.keys(
        mergeObjectInfo([
          { A: 1, B: 1 },
          { B: 2, C: 2 },
        ])
      )
    ).toEqual(['B', 'C', 'A']);
    expect(mergeObjectInfo([{ B: 1 }, { B: 2 }])['B']).toBe(1);
    expect(
      mergeSystemStats([
        { system: { os: 'posix' }, devices: [{ name: 'cuda:0' }] },
        { system: { os: 'nt' }, devices: [{ name: 'cuda:1' }] },
      ])
    ).toEqual({ system: { os: 'posix' }, devices: [{ name: 'cuda:0' }, { name: 'cuda:1' }] });
  });
});
