import { Router } from 'express';
import { z } from 'zod';
import { callerOf, requireAdmin } from '../adminGuards.js';
import { parseInput } from '../validate.js';
import { GateError } from '../../errors.js';
import type { KeyStore } from '../../keys/keyStore.js';
import type { UsageAggregator } from '../../usage/usageAggregator.js';
import {
  ANONYMOUS,
  localDateSchema,
  usageKeyIdSchema,
  type AllUsageReport,
  type UsageQuery,
} from '../../usage/usageSchema.js';

const rangeSchema = z.strictObject({ from: localDateSchema.optional(), to: localDateSchema.optional() });
const allSchema = rangeSchema.extend({ key: usageKeyIdSchema.optional() });

/**
 * /gate/api/usage: `GET /` is the caller's own usage (any signed-in role), `GET /all` every key's (admin).
 * Both take `from` and `to` (YYYY-MM-DD, local days, both included; the last 30 days by default).
 */
export function usageRouter(usage: UsageAggregator, keys?: Pick<KeyStore, 'get'>): Router {
  const router = Router();

  router.get('/', (req, res) => {
    const caller = callerOf(res);
    const range = parseInput(rangeSchema, req.query);
    res.set('cache-control', 'no-store').json(usage.query(checked({ ...range, keyId: caller.keyId })));
  });

  router.get('/all', requireAdmin, (req, res) => {
    const { key, ...range } = parseInput(allSchema, req.query);
    const report = usage.query(checked({ ...range, keyId: key }));
    const names = new Map<string, string | null>();
    const nameOf = (keyId: string): string | null => {
      if (keyId === ANONYMOUS) return null;
      let name = names.get(keyId);
      if (name === undefined) {
        name = keys?.get(keyId)?.name ?? null;
        names.set(keyId, name);
      }
      return name;
    };
    const answer: AllUsageReport = {
      ...report,
      days: report.days.map((row) => ({ ...row, keyName: nameOf(row.keyId) })),
    };
    res.set('cache-control', 'no-store').json(answer);
  });

  return router;
}

function checked(query: UsageQuery): UsageQuery {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw new GateError('bad_request', `Invalid request: from (${query.from}) is after to (${query.to})`);
  }
  return query;
}
