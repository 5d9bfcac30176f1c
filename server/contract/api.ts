/**
 * The gate's HTTP API as types: what the dashboard (renderer/) may import from server/, and only with
 * `import type` (lint and test/architecture enforce both). The renderer compiles for the browser, so this file
 * reaches only schema and shape modules, never the gate's Node code: the tray app's door is desktop.ts.
 */

export type { CredentialSource } from '../pipeline/principal.js';
export type { ErrorBody, ErrorCode } from '../errors.js';
export type { QueuePlace } from '../fairness/queueSnapshot.js';
export type { Preset } from '../keys/keyPresets.js';
export type { Limits, PublicKeyRecord, Role, Scope, ShareLimits } from '../keys/keySchema.js';
export type { AuditAction, AuditRecord } from '../logs/auditLog.js';
export type { Page } from '../logs/logQuery.js';
export type { LogCoverage } from '../logs/logSchema.js';
export type { RequestLogLine } from '../logs/requestLogLine.js';
export type {
  AuthMode,
  CapInputs,
  FairQueueSettings,
  NotificationSettings,
  RoleLimits,
  RuntimeSettings,
  SettingsPatch,
  StartupPatch,
  StartupSettings,
} from '../settings/settingsSchema.js';
export type { AllUsageReport, DayUsage, NamedUsageRow, UsageReport } from '../usage/usageSchema.js';
export type { ShareAddress } from '../net/shareAddress.js';
export type { SharingReport } from '../net/sharingSchema.js';
export type { TlsSummary } from '../tls/tlsSummary.js';
export type { BackendStatus } from '../backends/backendStatus.js';
export type { ReplicaStatus } from '../redis/replicaStatus.js';
