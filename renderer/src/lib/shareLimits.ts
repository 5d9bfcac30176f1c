import type { CapInputs, Limits, Role, RoleLimits, ShareLimits } from '../api/types.js';
import { FRACTIONAL_LIMITS, formatNumber } from './format.js';

export type ShareField = keyof ShareLimits;
export type RequestField = Exclude<keyof Limits, ShareField>;

/** The limits on how much a key may ask of the gate, in the order the forms show them. */
export const REQUEST_LIMIT_FIELDS: readonly RequestField[] = ['perMinute', 'perHour', 'promptsPerDay', 'maxQueued'];

/** The key's share of the GPU: GPU time, the size of one generation, and its weight in the queue. */
export const SHARE_LIMIT_FIELDS: readonly ShareField[] = [
  'gpuSecondsPerDay',
  'maxPixels',
  'maxBatch',
  'maxSteps',
  'maxFrames',
  'maxNodes',
  'weight',
];

/** One line under each box of the GPU share: what the gate reads and what a refusal looks like. */
export const SHARE_HINTS: Readonly<Record<ShareField, string>> = {
  gpuSecondsPerDay: 'ComfyUI’s run time of this key’s prompts per day.',
  maxPixels: 'Width × height of one node, e.g. 1048576 for 1024×1024.',
  maxBatch: 'batch_size of any node.',
  maxSteps: 'steps of any sampler.',
  maxFrames: 'length, frames or num_frames of any node.',
  maxNodes: 'Nodes in one prompt.',
  weight: '2 starts twice as many prompts as a key of weight 1.',
};

/** The weight of a key without one of its own and without a role default (server/limits/shareLimits.ts). */
const DEFAULT_WEIGHT = 1;

/**
 * What an empty box of the GPU share means, as its placeholder: the role's default where Settings
 * gives one; without a role in view (the default limits), that the role's default applies.
 */
export function sharePlaceholder(field: ShareField, roleDefaults: Partial<ShareLimits> | undefined): string {
  if (roleDefaults === undefined) return 'Role default';
  const value = roleDefaults[field];
  if (value !== undefined && value !== null) return `Role default: ${formatNumber(value)}`;
  return field === 'weight' ? `${DEFAULT_WEIGHT} (normal)` : 'Unlimited';
}

/** The role defaults as typed on the Settings page: an empty box is no default. */
export type RoleLimitsDraft = Record<Role, Record<ShareField, string>>;

export function roleLimitsDraft(roleLimits: RoleLimits): RoleLimitsDraft {
  const draft = {} as RoleLimitsDraft;
  for (const role of Object.keys(roleLimits) as Role[]) {
    const fields = {} as Record<ShareField, string>;
    for (const field of SHARE_LIMIT_FIELDS) {
      const value = roleLimits[role][field];
      fields[field] = value === undefined || value === null ? '' : String(value);
    }
    draft[role] = fields;
  }
  return draft;
}

/** Every role's every field, an empty box as null (which takes the default away); problems by `role.field`. */
export function parseRoleLimits(draft: RoleLimitsDraft): {
  roleLimits: Record<Role, Record<ShareField, number | null>>;
  errors: Record<string, string>;
} {
  const roleLimits = {} as Record<Role, Record<ShareField, number | null>>;
  const errors: Record<string, string> = {};
  for (const role of Object.keys(draft) as Role[]) {
    const parsed = {} as Record<ShareField, number | null>;
    for (const field of SHARE_LIMIT_FIELDS) {
      const text = draft[role][field].trim();
      parsed[field] = null;
      if (text === '') continue;
      const value = Number(text);
      if (FRACTIONAL_LIMITS.has(field)) {
        if (!Number.isFinite(value) || value <= 0) errors[`${role}.${field}`] = 'A number above 0, or empty for none';
        else parsed[field] = value;
      } else if (!Number.isInteger(value) || value < 1) {
        errors[`${role}.${field}`] = 'A whole number of 1 or more, or empty for none';
      } else parsed[field] = value;
    }
    roleLimits[role] = parsed;
  }
  return { roleLimits, errors };
}

export type CapKind = keyof CapInputs;

export const CAP_KINDS: readonly CapKind[] = ['width', 'height', 'batch', 'steps', 'frames'];

export const CAP_KIND_LABELS: Readonly<Record<CapKind, string>> = {
  width: 'Width inputs',
  height: 'Height inputs',
  batch: 'Batch size inputs',
  steps: 'Steps inputs',
  frames: 'Frame count inputs',
};

/** The input names as typed: one box per kind, names separated by commas or spaces. */
export type CapInputsDraft = Record<CapKind, string>;

export function capInputsDraft(inputs: CapInputs): CapInputsDraft {
  const draft = {} as CapInputsDraft;
  for (const kind of CAP_KINDS) draft[kind] = inputs[kind].join(', ');
  return draft;
}

/** The names of each box, without repeats; an empty box checks no input of that kind. */
export function parseCapInputs(draft: CapInputsDraft): CapInputs {
  const inputs = {} as CapInputs;
  for (const kind of CAP_KINDS) {
    inputs[kind] = [...new Set(draft[kind].split(/[\s,]+/).filter((name) => name !== ''))];
  }
  return inputs;
}
