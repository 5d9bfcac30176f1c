import type { Request, Response } from 'express';
import type { AuditAction, AuditLog } from '../logs/auditLog.js';
import { clientIpOf } from '../http/clientIp.js';
import { principalOf } from './adminGuards.js';

/** Records what the caller of this admin request did, with their key id and address. */
export type Audit = (
  req: Request,
  res: Response,
  action: AuditAction,
  target?: string,
  details?: Record<string, unknown>
) => void;

export function auditWith(log: AuditLog): Audit {
  return (req, res, action, target, details) => {
    log.record({ action, actorKeyId: principalOf(res)?.keyId ?? null, clientIp: clientIpOf(req), target, details });
  };
}
