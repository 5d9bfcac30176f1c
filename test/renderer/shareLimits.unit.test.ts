// The GPU share in the key form and on the Settings page (renderer/src/lib/shareLimits.ts, limitsDraft.ts).
import { describe, expect, it } from 'vitest';
import { checkKeyDraft, createKeyBody, updateKeyBody } from '../../renderer/src/lib/keyForm.js';
import { LIMIT_FIELDS } from '../../renderer/src/lib/format.js';
import { limitErrorsFrom, limitsDraft, NO_LIMITS } from '../../renderer/src/lib/limitsDraft.js';
import {
  capInputsDraft,
  parseCapInputs,
  parseRoleLimits,
  REQUEST_LIMIT_FIELDS,
  roleLimitsDraft,
  SHARE_HINTS,
  SHARE_LIMIT_FIELDS,
  sharePlaceholder,
} from '../../renderer/src/lib/shareLimits.js';

describe('the GPU share in the key form', () => {
  it('groups every limit exactly once: the request limits, then the GPU share', () => {
    expect([...REQUEST_LIMIT_FIELDS, ...SHARE_LIMIT_FIELDS]).toEqual(LIMIT_FIELDS);
    for (const field of SHARE_LIMIT_FIELDS) expect(SHARE_HINTS[field]).not.toBe('');
  });

  it("shows the role's default in an empty box, else unlimited (weight: 1), else that the role's applies", () => {
    const creator = { maxSteps: 40, weight: 2 };
    expect(sharePlaceholder('maxSteps', creator)).toBe('Role default: 40');
    expect(sharePlaceholder('weight', creator)).toBe('Role default: 2');
    expect(sharePlaceholder('maxPixels', { maxPixels: 1048576 })).toBe('Role default: 1,048,576');
    expect(sharePlaceholder('maxBatch', creator)).toBe('Unlimited');
    expect(sharePlaceholder('weight', {})).toBe('1 (normal)');
    expect(sharePlaceholder('maxSteps', undefined)).toBe('Role default');
  });

  it('sends caps typed in the form, whole numbers for counts and fractions for weight and GPU seconds', () => {
    const limits = { ...limitsDraft(NO_LIMITS), maxSteps: '30', weight: '1.5', gpuSecondsPerDay: '600.5' };
    const checked = checkKeyDraft({ name: 'box', note: '', limits, expiry: { choice: 'never', date: '' } }, 'x');
    expect('key' in checked && createKeyBody(checked.key, 'creator').limits).toMatchObject({
      maxSteps: 30,
      weight: 1.5,
      gpuSecondsPerDay: 600.5,
      maxPixels: null,
    });
  });

  it('refuses a fraction of a step or a weight of 0 beside the box', () => {
    const limits = { ...limitsDraft(NO_LIMITS), maxSteps: '2.5', weight: '0', maxPixels: '-1' };
    const checked = checkKeyDraft({ name: 'box', note: '', limits, expiry: { choice: 'never', date: '' } }, 'x');
    expect('errors' in checked && checked.errors.limits).toEqual({
      maxSteps: 'A whole number of 1 or more, or empty for unlimited',
      weight: 'A number above 0, or empty for none',
      maxPixels: 'A whole number of 1 or more, or empty for unlimited',
    });
  });

  it('clears a cap on edit as null, so the role default applies again', () => {
    const checked = checkKeyDraft(
      { name: 'box', note: '', limits: limitsDraft(NO_LIMITS), expiry: { choice: 'keep', date: '' } },
      'x'
    );
    expect(
      'key' in checked && updateKeyBody(checked.key, 'creator', { role: 'creator', scopes: null }).limits?.maxSteps
    ).toBeNull();
  });

  it("places the gate's problems with a cap beside its box", () => {
    expect(limitErrorsFrom({ 'limits.maxSteps': 'expected a whole number', 'limits.x': 'no' }, 'limits')).toEqual({
      maxSteps: 'expected a whole number',
    });
  });
});

describe('role defaults on the Settings page', () => {
  const ROLE_LIMITS = { viewer: {}, creator: { maxSteps: 40, weight: 2 }, operator: {}, admin: { weight: 4 } };

  it('shows each default in its box and no default as an empty one', () => {
    const draft = roleLimitsDraft(ROLE_LIMITS);
    expect(draft.creator).toMatchObject({ maxSteps: '40', weight: '2', maxPixels: '' });
    expect(Object.values(draft.viewer).every((text) => text === '')).toBe(true);
  });

  it('sends every box, an emptied one as null (which takes the default away)', () => {
    const draft = roleLimitsDraft(ROLE_LIMITS);
    draft.creator.maxSteps = '';
    draft.viewer.maxFrames = '49';
    const parsed = parseRoleLimits(draft);
    expect(parsed.errors).toEqual({});
    expect(parsed.roleLimits.creator).toMatchObject({ maxSteps: null, weight: 2 });
    expect(parsed.roleLimits.viewer).toMatchObject({ maxFrames: 49, weight: null });
    expect(Object.keys(parsed.roleLimits.admin)).toEqual(SHARE_LIMIT_FIELDS);
  });

  it('names the role and the field of a bad box', () => {
    const draft = roleLimitsDraft(ROLE_LIMITS);
    draft.operator.maxBatch = '1.5';
    draft.admin.weight = '-2';
    expect(parseRoleLimits(draft).errors).toEqual({
      'operator.maxBatch': 'A whole number of 1 or more, or empty for none',
      'admin.weight': 'A number above 0, or empty for none',
    });
  });
});

describe('cap input names on the Settings page', () => {
  it('shows each kind as one line and reads names separated by commas or spaces, without repeats', () => {
    const inputs = {
      width: ['width'],
      height: ['height'],
      batch: ['batch_size'],
      steps: ['steps'],
      frames: ['length', 'frames'],
    };
    const draft = capInputsDraft(inputs);
    expect(draft.frames).toBe('length, frames');
    expect(parseCapInputs(draft)).toEqual(inputs);
    expect(parseCapInputs({ ...draft, frames: ' length,frames  num_frames, length ,', steps: '' })).toEqual({
      ...inputs,
      frames: ['length', 'frames', 'num_frames'],
      steps: [],
    });
  });
});
