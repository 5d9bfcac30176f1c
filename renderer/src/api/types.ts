/**
 * What the gate's API speaks, as the dashboard sees it. Shapes the server defines come, as types only, from its
 * contract (server/contract/api.ts): the renderer talks to the gate over HTTP, never by importing its code.
 */
import type {
  AuditAction,
  AuthMode,
  BackendStatus,
  CredentialSource,
  DayUsage,
  Limits,
  LogCoverage,
  Page,
  Preset,
  PublicKeyRecord,
  ReplicaStatus,
  RequestLogLine,
  Role,
  Scope,
  ShareAddress,
  SharingReport,
  StartupSettings,
  TlsSummary,
} from '../../../server/contract/api.js';

export type * from '../../../server/contract/api.js';

export type KeyRecord = PublicKeyRecord;

/** GET /logs: a page plus how far back the request log reaches (absent from gates older than this dashboard). */
export type RequestLogPage = Page<RequestLogLine> & { coverage?: LogCoverage };

/** POST /keys and POST /keys/:id/rotate: the record plus the plaintext key, shown this once. */
export type KeyWithSecret = KeyRecord & { key: string };

export interface CreateKeyBody {
  name: string;
  preset?: Preset;
  role?: Role;
  note?: string;
  limits?: Partial<Limits>;
  expiresAt?: string | null;
}

export interface UpdateKeyBody {
  name?: string;
  role?: Role;
  note?: string;
  limits?: Partial<Limits>;
  expiresAt?: string | null;
  active?: boolean;
  scopes?: Scope[] | null;
}

/** GET /whoami: the caller's own key record, or the legacy environment key. */
/** `gpuQuotaSeconds`: the GPU seconds per day that apply (the key's own, else its role's default); null for none. */
export type Whoami =
  | (KeyRecord & { via: CredentialSource; legacy?: undefined; gpuQuotaSeconds: number | null })
  | { id: string; name: string; role: Role; legacy: true; via: CredentialSource; gpuQuotaSeconds: number | null };

export type { ShareAddress, SharingReport };

/** GET /status (server/admin/routes/statusRouter.ts). */
export interface StatusReport {
  upstream: { url: string; reachable: boolean; version: string | null; queueRemaining: number | null };
  mode: AuthMode;
  listen: { host: string; port: number };
  /** The sharing switch: on the network, or this computer only. */
  network: boolean;
  share: ShareAddress;
  /** HTTPS: the certificate the gate serves, for teammates to check; null for plain HTTP. */
  tls: TlsSummary | null;
  keys: { total: number; active: number; usedRecently: number };
  today: DayUsage;
  openSockets: number;
  /** Each ComfyUI backend and its health; one entry when the gate fronts one ComfyUI. */
  backends: BackendStatus[];
  /** Only with Redis: the gate replicas sharing it (empty while Redis does not answer). */
  replicas?: ReplicaStatus[];
  warnings: string[];
}

/** GET/PATCH /settings/startup. */
export interface StartupReport {
  running: { host: string; port: number; https: boolean; upstream: string };
  saved: StartupSettings;
  restartNeeded: boolean;
}

export interface UpstreamTest {
  url: string;
  reachable: boolean;
}

export interface AccessToken {
  token: string;
  expiresAt: string;
}

export interface LogQuery {
  key?: string;
  status?: string;
  path?: string;
  since?: string;
  until?: string;
  limit?: number;
  before?: string;
}

export interface AuditQuery {
  action?: AuditAction;
  limit?: number;
  before?: string;
}

export interface UsageRange {
  from?: string;
  to?: string;
  key?: string;
}
