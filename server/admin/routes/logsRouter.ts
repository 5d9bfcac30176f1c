import { Router } from 'express';
import { z } from 'zod';
import { requireAdmin } from '../adminGuards.js';
import { parseInput } from '../validate.js';
import { AUDIT_ACTIONS, type AuditLog } from '../../logs/auditLog.js';
import { MAX_QUERY_LIMIT } from '../../logs/logQuery.js';
import { parseStatusFilter, STATUS_FILTER } from '../../logs/requestQuery.js';
import type { LogCoverage } from '../../logs/logSchema.js';
import type { LogStream } from '../../logs/logStream.js';
import type { RequestLog } from '../../logs/requestLog.js';
import type { RuntimeSettings } from '../../settings/settingsSchema.js';

export interface LogsRouterOptions {
  requestLog: RequestLog;
  stream: LogStream;
  audit: AuditLog;
  retention: () => RuntimeSettings['logRetention'];
}

const isoTime = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date or date-time' })
  .transform((value) => Date.parse(value));

const statusFilter = z
  .string()
  .regex(STATUS_FILTER, { error: 'expected a status such as 404, or a class such as 4xx' })
  .transform((value) => parseStatusFilter(value));

const limit = z.coerce.number().int().min(1).max(MAX_QUERY_LIMIT).default(100);

/** `token` is a credential (?token=, for clients that cannot send headers); identify() already read it. */
const credentialParam = { token: z.string().optional() };

const logsQuerySchema = z.strictObject({
  key: z.string().min(1).max(200).optional(),
  status: statusFilter.optional(),
  path: z.string().min(1).max(4096).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit,
  before: z.string().min(1).max(1024).optional(),
  ...credentialParam,
});

const streamQuerySchema = z.strictObject({
  key: z.string().min(1).max(200).optional(),
  status: statusFilter.optional(),
  ...credentialParam,
});

const auditQuerySchema = z.strictObject({
  action: z.enum(AUDIT_ACTIONS).optional(),
  since: isoTime.optional(),
  limit,
  before: z.string().min(1).max(1024).optional(),
  ...credentialParam,
});

/**
 * /logs, /logs/stream and /audit, all admin only. Mounted at /gate/api after identify(), which finds the caller.
 * Times in and out are ISO 8601; `next` is an opaque cursor for the following (older) page.
 */
export function logsRouter({ requestLog, stream, audit, retention }: LogsRouterOptions): Router {
  const router = Router();

  router.get('/logs', requireAdmin, async (req, res) => {
    const { key, status, path, since, until, limit, before } = parseInput(logsQuerySchema, req.query);
    const page = await requestLog.query({ key, status, path, since, until, limit, before });
    const coverage: LogCoverage = { oldestTime: requestLog.oldestTime, retention: retention() };
    res.set('cache-control', 'no-store').json({ ...page, coverage });
  });

  router.get('/logs/stream', requireAdmin, (req, res) => {
    const { key, status } = parseInput(streamQuerySchema, req.query);
    stream.attach(res, { key, status }, req.get('last-event-id'));
  });

  router.get('/audit', requireAdmin, async (req, res) => {
    const { action, since, limit, before } = parseInput(auditQuerySchema, req.query);
    const page = await audit.query({ action, since, limit, before });
    res.set('cache-control', 'no-store').json(page);
  });

  return router;
}
