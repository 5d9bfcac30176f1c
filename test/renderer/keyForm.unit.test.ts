// The key form's logic, shared by the New key and Edit key dialogs (renderer/src/lib/keyForm.ts).
import { describe, expect, it } from 'vitest';
import type { KeyDraft } from '../../renderer/src/lib/keyForm.js';
import {
  checkKeyDraft,
  createKeyBody,
  GUEST_LIMITS,
  keyFormErrorsFrom,
  updateKeyBody,
  withChoice,
} from '../../renderer/src/lib/keyForm.js';
import { expiryValue } from '../../renderer/src/lib/expiry.js';
import { limitErrorsFrom, limitsDraft, NO_LIMITS, parseLimits } from '../../renderer/src/lib/limitsDraft.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const EMPTY = limitsDraft(NO_LIMITS);
const DEFAULTS = { ...NO_LIMITS, perMinute: 60, perHour: null, promptsPerDay: 100, maxQueued: 3 };

function draft(over: Partial<KeyDraft> = {}): KeyDraft {
  return { name: 'alice', note: '', limits: EMPTY, expiry: { choice: 'never', date: '' }, ...over };
}

describe('limits as typed', () => {
  it('shows a limit as its number and unlimited as an empty box', () => {
    expect(limitsDraft({ ...NO_LIMITS, perMinute: 120, perHour: null, promptsPerDay: 20, maxQueued: null })).toEqual({
      ...EMPTY,
      perMinute: '120',
      perHour: '',
      promptsPerDay: '20',
      maxQueued: '',
    });
  });

  it('reads whole numbers of 1 or more, an empty box as unlimited, and trims spaces', () => {
    expect(parseLimits({ ...EMPTY, perMinute: ' 30 ', perHour: '', promptsPerDay: '1', maxQueued: '' })).toEqual({
      limits: { ...NO_LIMITS, perMinute: 30, perHour: null, promptsPerDay: 1, maxQueued: null },
      errors: {},
    });
  });

  it.each(['0', '-1', '1.5', 'ten', '1e'])('refuses %j next to its box', (typed) => {
    const { errors } = parseLimits({ ...EMPTY, maxQueued: typed });
    expect(errors).toEqual({ maxQueued: 'A whole number of 1 or more, or empty for unlimited' });
  });

  it("places the gate's problems under their limit by the field prefix", () => {
    const fields = { 'limits.perHour': 'too big', 'defaultLimits.maxQueued': 'other form', name: 'x' };
    expect(limitErrorsFrom(fields, 'limits')).toEqual({ perHour: 'too big' });
    expect(limitErrorsFrom(fields, 'defaultLimits')).toEqual({ maxQueued: 'other form' });
  });
});

describe('expiry', () => {
  it('keeps, clears, or sets the end of a picked local day', () => {
    expect(expiryValue({ choice: 'keep', date: '' }, NOW)).toBeUndefined();
    expect(expiryValue({ choice: 'never', date: '' }, NOW)).toBeNull();
    expect(expiryValue({ choice: '7', date: '' }, NOW)).toBe(new Date(NOW + 7 * 86_400_000).toISOString());
    expect(expiryValue({ choice: 'custom', date: '2026-03-31' }, NOW)).toBe(
      new Date(2026, 2, 31, 23, 59, 59).toISOString()
    );
    expect(expiryValue({ choice: 'custom', date: '' }, NOW)).toBe('');
  });
});

describe('checking the form before it is sent', () => {
  it('passes a trimmed name, the note as typed, the parsed limits and the expiry', () => {
    const checked = checkKeyDraft(
      draft({ name: '  alice  ', note: ' her laptop ', limits: { ...EMPTY, perMinute: '5' } }),
      'name it',
      NOW
    );
    expect(checked).toEqual({
      key: {
        name: 'alice',
        note: ' her laptop ',
        limits: { ...NO_LIMITS, perMinute: 5, perHour: null, promptsPerDay: null, maxQueued: null },
        expiresAt: null,
      },
    });
  });

  it("names every problem at once, in the dialog's own words for a missing name", () => {
    const checked = checkKeyDraft(
      draft({ name: '   ', limits: { ...EMPTY, perHour: '0' }, expiry: { choice: 'custom', date: '' } }),
      'A key needs a name',
      NOW
    );
    expect(checked).toEqual({
      errors: {
        name: 'A key needs a name',
        expiresAt: 'Pick a date',
        limits: { perHour: 'A whole number of 1 or more, or empty for unlimited' },
      },
    });
  });

  it('refuses on a bad limit alone', () => {
    expect(checkKeyDraft(draft({ limits: { ...EMPTY, maxQueued: 'x' } }), 'n', NOW)).toEqual({
      errors: { limits: { maxQueued: 'A whole number of 1 or more, or empty for unlimited' } },
    });
  });
});

describe('the New key choices', () => {
  it("picking guest brings the guest's limits and 7 days", () => {
    const next = withChoice(draft({ name: 'bob' }), 'creator', 'guest', DEFAULTS);
    expect(next).toEqual(draft({ name: 'bob', limits: limitsDraft(GUEST_LIMITS), expiry: { choice: '7', date: '' } }));
  });

  it('leaving guest takes its 7 days back and brings the default limits; a date the user chose stays', () => {
    const guest = draft({ limits: limitsDraft(GUEST_LIMITS), expiry: { choice: '7', date: '2026-04-01' } });
    expect(withChoice(guest, 'guest', 'viewer', DEFAULTS)).toEqual(
      draft({ limits: limitsDraft(DEFAULTS), expiry: { choice: 'never', date: '2026-04-01' } })
    );
    const dated = { ...guest, expiry: { choice: '30' as const, date: '' } };
    expect(withChoice(dated, 'guest', 'creator', DEFAULTS).expiry).toEqual({ choice: '30', date: '' });
  });

  it('between two roles, only the limits go back to the defaults', () => {
    const typed = draft({ limits: { ...EMPTY, perMinute: '9' }, expiry: { choice: '7', date: '' } });
    expect(withChoice(typed, 'creator', 'operator', DEFAULTS)).toEqual({ ...typed, limits: limitsDraft(DEFAULTS) });
  });
});

describe('the bodies sent', () => {
  const key = { name: 'alice', note: 'n', limits: GUEST_LIMITS, expiresAt: undefined };

  it('creates a viewer by role, any other choice by preset, and never-expiring when none is set', () => {
    expect(createKeyBody(key, 'viewer')).toEqual({
      name: 'alice',
      note: 'n',
      limits: GUEST_LIMITS,
      expiresAt: null,
      role: 'viewer',
    });
    expect(createKeyBody({ ...key, expiresAt: '2026-03-08T12:00:00.000Z' }, 'guest')).toEqual({
      name: 'alice',
      note: 'n',
      limits: GUEST_LIMITS,
      expiresAt: '2026-03-08T12:00:00.000Z',
      preset: 'guest',
    });
  });

  it('updates the role only when it changed, and then drops own scopes for the role’s', () => {
    const record = { role: 'creator' as const, scopes: ['read' as const, 'generate' as const] };
    expect(updateKeyBody(key, 'creator', record)).toEqual({ name: 'alice', note: 'n', limits: GUEST_LIMITS });
    expect(updateKeyBody(key, 'viewer', record)).toEqual({
      name: 'alice',
      note: 'n',
      limits: GUEST_LIMITS,
      role: 'viewer',
      scopes: null,
    });
    expect(updateKeyBody(key, 'viewer', { role: 'creator', scopes: null })).toEqual({
      name: 'alice',
      note: 'n',
      limits: GUEST_LIMITS,
      role: 'viewer',
    });
  });

  it('sends an expiry when one was picked, including never', () => {
    const record = { role: 'creator' as const, scopes: null };
    expect(updateKeyBody({ ...key, expiresAt: null }, 'creator', record).expiresAt).toBeNull();
    expect('expiresAt' in updateKeyBody(key, 'creator', record)).toBe(false);
  });
});

describe("the gate's refusals", () => {
  it('places field problems next to their boxes, scopes under the role', () => {
    expect(
      keyFormErrorsFrom({ name: 'taken', scopes: 'unknown scope', 'limits.perMinute': 'too many' }, 'Invalid request')
    ).toEqual({
      name: 'taken',
      note: undefined,
      role: 'unknown scope',
      expiresAt: undefined,
      limits: { perMinute: 'too many' },
    });
  });

  it('shows the whole message when no problem has a box', () => {
    expect(keyFormErrorsFrom({ other: 'x' }, 'Invalid request: other: x').form).toBe('Invalid request: other: x');
  });
});
