import { InvalidArgumentError, type Command } from 'commander';
import type { Limits } from '../keys/keySchema.js';

interface LimitFlag {
  /** Commander names the option after the flag in camelCase, which is the limit's own name. */
  field: keyof Limits;
  flag: string;
  help: string;
  /** GPU seconds and weights may have fractions; counts are whole. */
  fraction: boolean;
  /** What a key without its own value gets: the GPU share falls back to the role's default in Settings. */
  unset: string;
  /** How `keys show` and `keys create` print it. */
  text: (value: number) => string;
}

const UNLIMITED = 'unlimited';
const ROLE_DEFAULT = "the role's default, else unlimited";

/** Every limit a key has, in the order the CLI lists them: requests, prompts, then the GPU share. */
export const LIMIT_FLAGS: readonly LimitFlag[] = [
  {
    field: 'perMinute',
    flag: '--per-minute',
    help: 'requests per minute',
    fraction: false,
    unset: UNLIMITED,
    text: (n) => `${n}/min`,
  },
  {
    field: 'perHour',
    flag: '--per-hour',
    help: 'requests per hour',
    fraction: false,
    unset: UNLIMITED,
    text: (n) => `${n}/hour`,
  },
  {
    field: 'promptsPerDay',
    flag: '--prompts-per-day',
    help: 'prompts queued per day',
    fraction: false,
    unset: UNLIMITED,
    text: (n) => `${n} prompts/day`,
  },
  {
    field: 'maxQueued',
    flag: '--max-queued',
    help: 'prompts waiting in the queue at once',
    fraction: false,
    unset: UNLIMITED,
    text: (n) => `${n} queued`,
  },
  {
    field: 'gpuSecondsPerDay',
    flag: '--gpu-seconds-per-day',
    help: 'seconds of GPU time per day',
    fraction: true,
    unset: ROLE_DEFAULT,
    text: (n) => `${n} GPU s/day`,
  },
  {
    field: 'maxPixels',
    flag: '--max-pixels',
    help: 'image area (width × height) of one generation',
    fraction: false,
    unset: ROLE_DEFAULT,
    text: (n) => `≤${n} px`,
  },
  {
    field: 'maxBatch',
    flag: '--max-batch',
    help: 'batch size of one generation',
    fraction: false,
    unset: ROLE_DEFAULT,
    text: (n) => `batch ≤${n}`,
  },
  {
    field: 'maxSteps',
    flag: '--max-steps',
    help: 'sampler steps of one generation',
    fraction: false,
    unset: ROLE_DEFAULT,
    text: (n) => `≤${n} steps`,
  },
  {
    field: 'maxFrames',
    flag: '--max-frames',
    help: 'video length in frames',
    fraction: false,
    unset: ROLE_DEFAULT,
    text: (n) => `≤${n} frames`,
  },
  {
    field: 'maxNodes',
    flag: '--max-nodes',
    help: 'nodes in one prompt',
    fraction: false,
    unset: ROLE_DEFAULT,
    text: (n) => `≤${n} nodes`,
  },
  {
    field: 'weight',
    flag: '--weight',
    help: 'share of the queue against other keys (2 = twice as many prompts started)',
    fraction: true,
    unset: "the role's weight, else 1",
    text: (n) => `weight ${n}`,
  },
];

/** `none` lifts a limit on update; commander turns a null from a parser into '', so the word itself travels. */
export type LimitValue = number | 'none';
export type LimitFlagValues = Partial<Record<keyof Limits, LimitValue>>;

/** `keys create` takes numbers (a limit left out comes from the defaults); `keys update` also takes none. */
export function addLimitOptions(command: Command, mode: 'create' | 'update'): Command {
  for (const { flag, help, fraction, unset } of LIMIT_FLAGS) {
    const parse = fraction ? positiveNumber : positiveInteger;
    if (mode === 'create')
      command.option(`${flag} <n>`, `${help} (default: Settings' default limits, else ${unset})`, parse);
    else command.option(`${flag} <n>`, `${help}, or none for ${unset}`, (value: string) => orNone(value, parse, unset));
  }
  return command;
}

/** The limits among the parsed flags, none as null; flags left out stay out. */
export function limitsFromFlags(flags: LimitFlagValues): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const { field } of LIMIT_FLAGS) {
    const value = flags[field];
    if (value !== undefined) limits[field] = value === 'none' ? null : value;
  }
  return limits;
}

export function formatLimits(limits: Limits): string {
  const parts = LIMIT_FLAGS.flatMap(({ field, text }) => {
    const value = limits[field];
    return value === null ? [] : [text(value)];
  });
  return parts.length === 0 ? 'unlimited' : parts.join(', ');
}

export function positiveInteger(value: string): number {
  const number = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('Expected a positive whole number such as 60.');
  }
  return number;
}

function positiveNumber(value: string): number {
  const number = Number(value.trim());
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError('Expected a positive number such as 600 or 1.5.');
  }
  return number;
}

function orNone(value: string, parse: (value: string) => number, unset: string): LimitValue {
  if (/^\s*(none|unlimited)\s*$/i.test(value)) return 'none';
  try {
    return parse(value);
  } catch (error) {
    const expected = error instanceof Error ? error.message.replace(/\.$/, '') : 'Expected a positive number';
    throw new InvalidArgumentError(`${expected}, or none for ${unset}.`);
  }
}
