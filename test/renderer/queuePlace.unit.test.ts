import { describe, expect, it } from 'vitest';
import { aboutDuration, ordinal, queuePlaceText } from '../../renderer/src/lib/queuePlace.js';

describe('queuePlaceText', () => {
  it('names the place and the estimate', () => {
    expect(queuePlaceText({ running: false, position: 3, ahead: 3, startsInSeconds: 62 })).toBe(
      'Your next prompt: 3rd in line, starts in about 1 min'
    );
  });

  it('says when the estimate is unknown, and when nothing is ahead', () => {
    expect(queuePlaceText({ running: false, position: 2, ahead: 2, startsInSeconds: null })).toBe(
      'Your next prompt: 2nd in line, start time not known yet'
    );
    expect(queuePlaceText({ running: false, position: 1, ahead: 0, startsInSeconds: 0 })).toBe(
      'Your next prompt: 1st in line, starts next'
    );
  });

  it('says when nothing waits', () => {
    expect(queuePlaceText({ running: true, position: null, ahead: null, startsInSeconds: null })).toBe(
      'Your prompt is running; nothing else of yours is waiting.'
    );
    expect(queuePlaceText({ running: false, position: null, ahead: null, startsInSeconds: null })).toBe(
      'Nothing of yours is waiting.'
    );
  });

  it('writes ordinals and durations', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 111].map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '111th',
    ]);
    expect([5, 89, 3600, 5400].map(aboutDuration)).toEqual(['5 s', '1 min', '1 h', '1 h 30 min']);
  });
});
