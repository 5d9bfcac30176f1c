import type { z } from 'zod';
import { GateInputError } from '../errors.js';

/**
 * Parses a request body or query with zod. The first problems become one readable 400 message; every problem
 * also goes into `fields` by field path, so a form shows each beside its field without re-parsing the message.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const paths = issue.keys.map((key) => [...issue.path, key].join('.'));
      for (const path of paths) fields[path] ??= 'unknown field';
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${paths.join(', ')}`;
    }
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    fields[where] ??= issue.message;
    return `${where}: ${issue.message}`;
  });
  throw new GateInputError(`Invalid request: ${problems.slice(0, 3).join('; ')}`, fields);
}
