import { AuditLog, type AuditEvent } from '../logs/auditLog.js';

/** Changes made from the CLI land in the same audit log as the gate's, with no actor key or address. */
export async function recordCliAudit(
  dataDir: string,
  event: Omit<AuditEvent, 'actorKeyId' | 'clientIp'>
): Promise<void> {
  const audit = await AuditLog.open({ dataDir });
  try {
    audit.record({ ...event, actorKeyId: null, clientIp: null, details: { ...event.details, via: 'cli' } });
  } finally {
    await audit.close();
  }
}
