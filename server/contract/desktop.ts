/**
 * The gate in-process: what the tray app (electron/) may import from server/ (lint and test/architecture enforce
 * it). A move inside server/ changes this file and nothing in electron/.
 */
export type { AuthMode, NotificationSettings, ShareAddress } from './api.js';
export type { BackendStatus } from '../backends/backendStatus.js';
export {
  startGate,
  type GateEvents,
  type GateHandle,
  type GateState,
  type KeyNamed,
  type OwnerSession,
  type StartGateOptions,
} from '../gate.js';
export { ConfigError, loadConfig } from '../config/loadConfig.js';
export { defaultDataDir } from '../config/dataDir.js';
export { createLogger, type Logger } from '../appLog/logger.js';
export { probeComfyUI } from '../upstream/upstream.js';
export { discoverUpstream, type Discovery } from '../upstream/upstreamDiscovery.js';
export { SettingsStore } from '../settings/settingsStore.js';
export { authModeSchema, startupSettingsSchema } from '../settings/settingsSchema.js';
export { isLoopbackHost, lanAddresses, localGateUrl, type Interfaces } from '../net/shareAddress.js';
