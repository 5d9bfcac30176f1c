import type { Logger } from '../appLog/logger.js';
import type { AuditLog } from '../logs/auditLog.js';
import type { BruteForceLockout } from './lockout.js';

export interface LockoutReportDeps {
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
  /** Counted for /metrics. */
  countLockout(): void;
  /** Told to the operator (the desktop app's notice). */
  announce(ip: string, until: number): void;
}

/** An address locked out after repeated wrong keys is announced, counted, audited and logged, once per lock. */
export function reportLockouts(lockout: BruteForceLockout, deps: LockoutReportDeps): void {
  lockout.events.on('locked', (ip, until) => {
    deps.announce(ip, until);
    deps.countLockout();
    deps.audit.record({
      action: 'lockout',
      actorKeyId: null,
      clientIp: ip,
      details: { until: new Date(until).toISOString() },
    });
    deps.logger.warn({ ip, until: new Date(until).toISOString() }, 'locked out an address after repeated wrong keys');
  });
}
