import type { z } from 'zod';
import { GateError } from '../errors.js';

/** Parses a request body or query with zod; the first problems become one readable 400 message. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    if (issue.code === 'unrecognized_keys')
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => [...issue.path, key].join('.')).join(', ')}`;
    return `${where}: ${issue.message}`;
  });
  throw new GateError('bad_request', `Invalid request: ${problems.join('; ')}`);
}
