import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { HealthReport } from '../upstream/healthReport.js';
import { backendStatusSchema } from '../backends/backendStatus.js';
import { replicaStatusSchema } from '../redis/replicaStatus.js';
import { ERROR_CODES, type ErrorBody } from '../errors.js';
import { SESSION_COOKIE } from '../pipeline/credentials.js';
import type { FinishedRequest } from '../observe/finishedRequest.js';
import {
  createKeyInputSchema,
  keyRecordSchema,
  limitsSchema,
  roleSchema,
  scopeSchema,
  updateKeyInputSchema,
  type PublicKeyRecord,
} from '../keys/keySchema.js';
import { queuePlaceSchema } from '../fairness/queueSnapshot.js';
import { authModeSchema, runtimeSettingsSchema, settingsPatchSchema } from '../settings/settingsSchema.js';
import { sharingBodySchema, type SharingReport } from '../net/sharingSchema.js';
import type { AllUsageReport, UsageReport } from '../usage/usageSchema.js';
import { dayUsageSchema, localDateSchema, usageKeyIdSchema } from '../usage/usageSchema.js';

/*
 * The OpenAPI document is generated from the zod schemas the routes validate with (imported, never
 * copied), so the docs cannot drift from what the API accepts. Response shapes that have no zod
 * schema of their own are written here and tied to their TypeScript type with `satisfies`, so a
 * changed type fails the type check until the docs follow.
 */

// ---- Schemas written here -------------------------------------------------------------------------

const instant = z.iso.datetime({ offset: true });

const publicKeyRecordSchema = keyRecordSchema.omit({ hash: true }) satisfies z.ZodType<PublicKeyRecord>;

const newKeySchema = publicKeyRecordSchema.extend({
  key: z.string().describe('The plaintext key (cgk_…). Shown this once: only its hash is stored.'),
});

const keyDetailSchema = publicKeyRecordSchema.extend({
  usage: z.looseObject({ lastUsedAt: instant.nullable() }).describe('Usage summary of the key'),
});

const credentialSourceSchema = z.enum(['header', 'bearer', 'query', 'cookie']);

const gpuQuotaSecondsSchema = z
  .number()
  .nonnegative()
  .nullable()
  .describe("The GPU seconds per day that apply: the key's own, else its role's default; null for no quota");

const whoamiSchema = z.union([
  publicKeyRecordSchema.extend({ via: credentialSourceSchema, gpuQuotaSeconds: gpuQuotaSecondsSchema }),
  z
    .object({
      id: z.literal('env'),
      name: z.string(),
      role: roleSchema,
      legacy: z.literal(true),
      via: credentialSourceSchema,
      gpuQuotaSeconds: gpuQuotaSecondsSchema,
    })
    .describe('The legacy COMFYGATE_API_KEY, which has no key record'),
]);

// Mirrors loginRouter's private body schema (it is not exported); exporting it would remove this copy.
const loginInputSchema = z.object({
  key: z.string().trim().min(1).max(512).describe('An API key (cgk_…)'),
  next: z.string().optional().describe('Where a form login redirects afterwards (a path on this gate)'),
});

const loginResultSchema = z.object({ id: z.string(), name: z.string(), role: roleSchema, expiresAt: instant });

// `POST /gate/api/token` is being written in parallel; this is its contract from the brief.
const accessTokenSchema = z.object({
  token: z.string().describe('A short-lived JWT; send it as Authorization: Bearer <token>'),
  expiresAt: instant,
});

const healthSchema = z.object({
  status: z.literal('ok'),
  upstream: z.object({ url: z.string(), reachable: z.boolean() }),
}) satisfies z.ZodType<HealthReport>;

const shareSchema = z
  .object({
    url: z.string().describe('The link teammates open (LAN address when the gate listens on the network)'),
    urls: z.array(z.string()).describe('Every link teammates may use, primary first'),
    reachableFromLan: z.boolean(),
    note: z.string().nullable().describe('Why teammates may not get through, in plain words'),
  })
  .describe('Where teammates reach the gate');
const listenSchema = z.object({ host: z.string(), port: z.number().int() }).describe('Where the gate listens now');
const networkSchema = z
  .boolean()
  .describe('The sharing switch: true on the network ("My network"), false on this computer only');

// statusRouter builds this object inline; keep the two in step.
const statusSchema = z.object({
  upstream: z.object({ url: z.string(), reachable: z.boolean() }),
  mode: authModeSchema,
  listen: listenSchema,
  network: networkSchema,
  keys: z.object({ total: z.number().int(), active: z.number().int() }),
  share: shareSchema,
  tls: z
    .object({
      fingerprint256: z.string().describe('SHA-256 fingerprint of the certificate, AB:CD:…, for teammates to check'),
      selfSigned: z.boolean().describe('Made by the gate (serve --https) rather than the operator’s own'),
      validTo: instant,
    })
    .nullable()
    .describe('HTTPS: the certificate the gate serves; null for plain HTTP'),
  openSockets: z.number().int().describe('Client WebSockets currently relayed'),
  backends: z
    .array(backendStatusSchema)
    .describe('Each ComfyUI backend (one when the gate fronts one ComfyUI): health, queue and GPUs'),
  replicas: z
    .array(replicaStatusSchema)
    .optional()
    .describe(
      'Only with Redis (redisUrl): the gate replicas sharing it, heard of in the last hour; empty while Redis does not answer (a warning says so)'
    ),
});

const sharingSchema = z.object({
  network: networkSchema,
  listen: listenSchema,
  url: z.string().describe('Where this computer reaches the gate now'),
  share: shareSchema,
}) satisfies z.ZodType<SharingReport>;

const usageRowSchema = dayUsageSchema.extend({ date: localDateSchema, keyId: z.string() });
const usageReportSchema = z.object({
  from: localDateSchema,
  to: localDateSchema,
  days: z.array(usageRowSchema).describe('Days with any usage only, by date then key id'),
  totals: dayUsageSchema,
}) satisfies z.ZodType<UsageReport>;
const allUsageReportSchema = usageReportSchema.extend({
  days: z.array(usageRowSchema.extend({ keyName: z.string().nullable() })),
}) satisfies z.ZodType<AllUsageReport>;

// usageRouter's query schemas are private; these mirror them.
const usageRangeQuery = z.object({
  from: localDateSchema.optional().describe('First local day, YYYY-MM-DD (default: 30 days before `to`)'),
  to: localDateSchema.optional().describe('Last local day, included (default: today)'),
});
const allUsageQuery = usageRangeQuery.extend({
  key: usageKeyIdSchema.optional().describe("Only this key id ('anonymous' for callers without a credential)"),
});

// The request log is being written in parallel: one line per FinishedRequest. Provisional until its schema exists.
const logEntrySchema = z.object({
  kind: z.enum(['http', 'ws']),
  time: z.number().describe('Start, epoch milliseconds'),
  requestId: z.string(),
  keyId: z.string().nullable(),
  keyName: z.string().nullable(),
  role: roleSchema.nullable(),
  clientIp: z.string(),
  method: z.string(),
  path: z.string().describe('Normalized path, query dropped (credentials never appear)'),
  routeClass: scopeSchema.nullable(),
  status: z.number().int(),
  durationMs: z.number(),
  upstreamMs: z.number().nullable(),
  bytesIn: z.number().int(),
  bytesOut: z.number().int(),
  promptId: z.string().optional(),
  refusal: z.enum(ERROR_CODES).optional().describe("The gate's refusal code when it refused the request"),
}) satisfies z.ZodType<FinishedRequest>;

const logsQuery = z.object({
  key: z.string().optional().describe('Only this key id'),
  status: z.string().optional().describe('A status (404) or a status class (4xx)'),
  since: z.string().optional().describe('Only requests at or after this ISO date-time'),
  limit: z.number().int().min(1).max(1000).optional().describe('At most this many entries, newest first'),
});

// Provisional until the audit log's schema exists: the fields every audit line is expected to carry.
const auditEntrySchema = z.looseObject({
  time: instant,
  action: z.string().describe('key.create, key.rotate, settings.update, login, lockout, …'),
  actor: z.string().nullable().describe('The key name that acted, null for the CLI or the system'),
});

const errorSchema = z.object({
  error: z.object({
    code: z
      .enum(ERROR_CODES)
      .describe(
        'Stable, machine-readable: bad_request, unauthorized, forbidden, not_found, conflict, rate_limit_minute, locked_out, …'
      ),
    message: z.string().describe('For people; never a stack trace'),
    requestId: z
      .string()
      .optional()
      .describe('The id the request log shows for this request (proxied requests), or that the gate log names (admin)'),
    fields: z
      .record(z.string(), z.string())
      .optional()
      .describe("For bad_request: the problems by field path ('limits.perMinute', 'body' for the whole input)"),
  }),
}) satisfies z.ZodType<ErrorBody>;

// ---- Components -----------------------------------------------------------------------------------

/** Request bodies: what a client may send (defaults optional, transforms seen from their input side). */
const INPUT_SCHEMAS = {
  CreateKeyInput: createKeyInputSchema,
  UpdateKeyInput: updateKeyInputSchema,
  SettingsPatch: settingsPatchSchema,
  LoginInput: loginInputSchema,
  SharingInput: sharingBodySchema,
} satisfies Record<string, z.ZodType>;

/** Answers: what the gate sends. */
const OUTPUT_SCHEMAS = {
  Error: errorSchema,
  Limits: limitsSchema,
  KeyRecord: publicKeyRecordSchema,
  NewKey: newKeySchema,
  KeyDetail: keyDetailSchema,
  Whoami: whoamiSchema,
  UsageReport: usageReportSchema,
  AllUsageReport: allUsageReportSchema,
  LogEntry: logEntrySchema,
  AuditEntry: auditEntrySchema,
  Settings: runtimeSettingsSchema,
  Status: statusSchema,
  Sharing: sharingSchema,
  Health: healthSchema,
  LoginResult: loginResultSchema,
  AccessToken: accessTokenSchema,
  QueuePlace: queuePlaceSchema,
} satisfies Record<string, z.ZodType>;

type InputId = keyof typeof INPUT_SCHEMAS;
type OutputId = keyof typeof OUTPUT_SCHEMAS;
type JsonObject = Record<string, unknown>;

const ERROR_RESPONSES = {
  400: ['BadRequest', 'Invalid input (the message names the field)'],
  401: ['Unauthorized', 'No credential, or a wrong, expired or deactivated one'],
  403: ['Forbidden', 'The key lacks the role, or the request came from another origin'],
  404: ['NotFound', 'No such key or endpoint'],
  409: ['Conflict', 'The change conflicts with the current state'],
  429: ['TooManyRequests', 'Too many wrong credentials from this address (locked_out); see Retry-After'],
  500: ['InternalError', 'The gate failed; its log has details'],
  502: ['BadGateway', 'ComfyUI did not answer'],
} as const;
type ErrorStatus = keyof typeof ERROR_RESPONSES;

// ---- Route catalogue ------------------------------------------------------------------------------

/** Who may call: `signedIn` = any role; `metrics` = an admin or the metrics token. */
type Access = 'public' | 'signedIn' | 'admin' | 'metrics';

interface ResponseSpec {
  description: string;
  /** A JSON body: a component, or an array of one. */
  json?: OutputId | [OutputId];
  /** A non-JSON body. */
  media?: { type: string; example?: string };
  headers?: Record<string, string>;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI form: `{id}` for a path parameter. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  query?: z.ZodObject;
  body?: { schema: InputId; form?: boolean; optional?: boolean };
  responses: Partial<Record<number, ResponseSpec>>;
  errors: ErrorStatus[];
}

const KEY_ERRORS: ErrorStatus[] = [401, 403, 404];

/** Every route of DESIGN.md "Contracts" (and the gate's own endpoints); the test checks none is missing. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/gate/api/keys',
    operationId: 'createKey',
    tag: 'Keys',
    summary: 'Create a key',
    description:
      'The answer holds the plaintext key, shown this once. Missing limits are unlimited (null); a null GPU-share ' +
      'limit (gpuSecondsPerDay, maxPixels, maxBatch, maxSteps, maxFrames, maxNodes, weight) takes the default of ' +
      "the key's role from the settings' roleLimits.",
    access: 'admin',
    body: { schema: 'CreateKeyInput' },
    responses: {
      201: { description: 'Created', json: 'NewKey', headers: { Location: 'The new key record: /gate/api/keys/{id}' } },
    },
    errors: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/keys',
    operationId: 'listKeys',
    tag: 'Keys',
    summary: 'List keys',
    description: 'Records only: never a plaintext key or its hash.',
    access: 'admin',
    responses: { 200: { description: 'Every key', json: ['KeyRecord'] } },
    errors: [401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/keys/{id}',
    operationId: 'getKey',
    tag: 'Keys',
    summary: 'Show a key with its usage summary',
    access: 'admin',
    responses: { 200: { description: 'The key', json: 'KeyDetail' } },
    errors: KEY_ERRORS,
  },
  {
    method: 'patch',
    path: '/gate/api/keys/{id}',
    operationId: 'updateKey',
    tag: 'Keys',
    summary: 'Change a key',
    description:
      'Only the fields sent change; limits sent replace only those limits. `active: false` deactivates the key ' +
      'and closes its open WebSockets; an expiry in the past expires it at once.',
    access: 'admin',
    body: { schema: 'UpdateKeyInput' },
    responses: { 200: { description: 'The changed key', json: 'KeyRecord' } },
    errors: [400, ...KEY_ERRORS],
  },
  {
    method: 'delete',
    path: '/gate/api/keys/{id}',
    operationId: 'deleteKey',
    tag: 'Keys',
    summary: 'Delete a key',
    access: 'admin',
    responses: { 204: { description: 'Deleted' } },
    errors: KEY_ERRORS,
  },
  {
    method: 'post',
    path: '/gate/api/keys/{id}/rotate',
    operationId: 'rotateKey',
    tag: 'Keys',
    summary: 'Rotate a key',
    description: 'A new secret for the same id, limits and history; the old secret and its sessions stop working.',
    access: 'admin',
    responses: { 200: { description: 'The new plaintext key with the record', json: 'NewKey' } },
    errors: KEY_ERRORS,
  },
  {
    method: 'post',
    path: '/gate/api/keys/{id}/sessions/revoke',
    operationId: 'endKeySessions',
    tag: 'Keys',
    summary: 'Sign a key out everywhere',
    description:
      'Every browser session and access token made with the key until now stops working at once and stays ended ' +
      'after any restart; their WebSockets close. The key itself keeps working. The record shows when in ' +
      '`sessionsEndedAt`.',
    access: 'admin',
    responses: { 200: { description: 'The key, with its new sessionsEndedAt', json: 'KeyRecord' } },
    errors: KEY_ERRORS,
  },
  {
    method: 'get',
    path: '/gate/api/whoami',
    operationId: 'whoami',
    tag: 'Self-service',
    summary: "The caller's own key record",
    access: 'signedIn',
    responses: { 200: { description: 'The calling key', json: 'Whoami' } },
    errors: [401],
  },
  {
    method: 'get',
    path: '/gate/api/queue',
    operationId: 'myQueuePlace',
    tag: 'Self-service',
    summary: "Where the caller's next prompt stands in ComfyUI's queue",
    description:
      "Read from ComfyUI's `/queue` now, in the order ComfyUI runs it (the fair order sets that order). " +
      "An isolated caller's `GET /queue` carries the same object as its `comfygate` member.",
    access: 'signedIn',
    responses: { 200: { description: "The place of the calling key's next prompt", json: 'QueuePlace' } },
    errors: [401, 502],
  },
  {
    method: 'get',
    path: '/gate/api/usage',
    operationId: 'myUsage',
    tag: 'Self-service',
    summary: "The caller's own usage per day",
    access: 'signedIn',
    query: usageRangeQuery,
    responses: { 200: { description: 'Usage of the calling key', json: 'UsageReport' } },
    errors: [400, 401],
  },
  {
    method: 'post',
    path: '/gate/api/token',
    operationId: 'createAccessToken',
    tag: 'Self-service',
    summary: 'Exchange the key for a short-lived access token',
    description:
      'For clients that should not hold the key itself for long: send it as `?token=` or `Authorization: Bearer`. ' +
      'The token dies with the key and with "sign out everywhere". Only a key or a signed-in browser may ask: an ' +
      'access token asking for another gets 403.',
    access: 'signedIn',
    responses: { 200: { description: 'An access token', json: 'AccessToken' } },
    errors: [401, 403, 429],
  },
  {
    method: 'post',
    path: '/gate/api/sessions/revoke',
    operationId: 'signOutEverywhere',
    tag: 'Self-service',
    summary: "Sign out all of the caller's sessions and access tokens",
    description:
      "Ends every session and access token of the caller's key made until now, on this gate and after any restart, " +
      "and clears this browser's cookie. The key itself keeps working.",
    access: 'signedIn',
    responses: { 204: { description: 'Signed out everywhere', headers: { 'Set-Cookie': 'The cleared session' } } },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/gate/api/usage/all',
    operationId: 'allUsage',
    tag: 'Usage',
    summary: "Every key's usage per day",
    access: 'admin',
    query: allUsageQuery,
    responses: { 200: { description: 'Usage rows with key names', json: 'AllUsageReport' } },
    errors: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/logs',
    operationId: 'listLogs',
    tag: 'Logs',
    summary: 'Recent proxied requests',
    access: 'admin',
    query: logsQuery,
    responses: { 200: { description: 'Log entries, newest first', json: ['LogEntry'] } },
    errors: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/logs/stream',
    operationId: 'streamLogs',
    tag: 'Logs',
    summary: 'Live request log (Server-Sent Events)',
    description: 'One event per finished request; `data` is a LogEntry as JSON.',
    access: 'admin',
    responses: {
      200: {
        description: 'An event stream that stays open',
        media: { type: 'text/event-stream', example: 'data: {"kind":"http","method":"GET","path":"/queue",…}\n\n' },
      },
    },
    errors: [401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/audit',
    operationId: 'listAudit',
    tag: 'Logs',
    summary: 'Key and settings changes, logins and lockouts',
    access: 'admin',
    responses: { 200: { description: 'Audit entries, newest first', json: ['AuditEntry'] } },
    errors: [401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/settings',
    operationId: 'getSettings',
    tag: 'Settings',
    summary: 'The runtime settings',
    access: 'admin',
    responses: { 200: { description: 'Current settings', json: 'Settings' } },
    errors: [401, 403],
  },
  {
    method: 'patch',
    path: '/gate/api/settings',
    operationId: 'updateSettings',
    tag: 'Settings',
    summary: 'Change runtime settings',
    description:
      'Applied to the next request, no restart. Nested objects sent replace only the fields they hold. `roleLimits`: ' +
      'per role, the GPU share of keys without their own (null removes a default). `capInputs`: the node input ' +
      'names the generation caps read (width, height, batch, steps, frames; a list sent replaces that list).',
    access: 'admin',
    body: { schema: 'SettingsPatch' },
    responses: { 200: { description: 'The settings after the change', json: 'Settings' } },
    errors: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/status',
    operationId: 'getStatus',
    tag: 'Status',
    summary: 'Upstream reachability, auth mode and counts',
    access: 'admin',
    responses: { 200: { description: 'Gate status', json: 'Status' } },
    errors: [401, 403],
  },
  {
    method: 'get',
    path: '/gate/api/sharing',
    operationId: 'getSharing',
    tag: 'Status',
    summary: 'Who can connect: this computer only, or the network',
    access: 'admin',
    responses: { 200: { description: 'Where the gate listens and the share link', json: 'Sharing' } },
    errors: [401, 403],
  },
  {
    method: 'put',
    path: '/gate/api/sharing',
    operationId: 'setSharing',
    tag: 'Status',
    summary: 'Switch between this computer only and the network, live',
    description:
      'Moves the listener without a restart: the new address opens first, the old one stops accepting, and ' +
      'connections already open (sessions, keep-alive, WebSockets) carry on; WebSockets from other machines close ' +
      'when switching to this computer only. The choice is saved for the next start. With protection off, ' +
      'switching to the network is refused (409): turn protection on first.',
    access: 'admin',
    body: { schema: 'SharingInput' },
    responses: { 200: { description: 'Where the gate listens now and the share link', json: 'Sharing' } },
    errors: [400, 401, 403, 409],
  },
  {
    method: 'post',
    path: '/gate/login',
    operationId: 'login',
    tag: 'Session',
    summary: 'Sign in with a key; sets the session cookie',
    description:
      'A JSON body is answered with JSON; a form post is redirected to `next`. The HttpOnly cookie ' +
      `\`${SESSION_COOKIE}\` then authenticates the browser, for ComfyUI's UI and this API.`,
    access: 'public',
    body: { schema: 'LoginInput', form: true },
    responses: {
      200: { description: 'Signed in (JSON request)', json: 'LoginResult', headers: { 'Set-Cookie': 'The session' } },
      303: { description: 'Signed in (form request): redirect to `next`', headers: { Location: 'Where to go' } },
    },
    errors: [400, 401, 429],
  },
  {
    method: 'post',
    path: '/gate/logout',
    operationId: 'logout',
    tag: 'Session',
    summary: 'Sign out; clears the session cookie',
    description:
      'Ends the session for good (it stays ended after a restart) and closes its WebSockets. Never refuses, even ' +
      'an expired cookie.',
    access: 'public',
    responses: {
      204: { description: 'Signed out (JSON request)', headers: { 'Set-Cookie': 'The cleared session' } },
      303: {
        description: 'Signed out (form request): redirect to the login page',
        headers: { Location: '/gate/login' },
      },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/gate/healthz',
    operationId: 'health',
    tag: 'Operations',
    summary: 'Liveness, and whether ComfyUI answers',
    description: 'Always 200 while the gate runs; `upstream.reachable` says whether ComfyUI does.',
    access: 'public',
    responses: { 200: { description: 'The gate is up', json: 'Health' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/gate/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    description:
      'Text exposition format 0.0.4. Needs an admin credential, or the metrics token from Settings as ' +
      '`Authorization: Bearer <token>` (for a scraper that should not hold an admin key).',
    access: 'metrics',
    responses: {
      200: {
        description: 'Metrics',
        media: {
          type: 'text/plain; version=0.0.4',
          example: 'comfygate_requests_total{status_class="2xx",route_class="read"} 42\n',
        },
      },
    },
    errors: [401, 403],
  },
];

// ---- Document -------------------------------------------------------------------------------------

const SIGNED_IN_SECURITY = [{ apiKey: [] }, { bearer: [] }, { cookie: [] }];
const SECURITY: Record<Access, JsonObject[]> = {
  public: [],
  signedIn: SIGNED_IN_SECURITY,
  admin: SIGNED_IN_SECURITY,
  metrics: [{ bearer: [] }, { apiKey: [] }, { cookie: [] }],
};
const ROLE_NOTE: Record<Access, string | undefined> = {
  public: undefined,
  signedIn: 'Any signed-in key (every role).',
  admin: 'Needs a key with role **admin**.',
  metrics: 'Needs role **admin** or the metrics token.',
};

let cached: JsonObject | undefined;

/** The OpenAPI 3.1 document served at /gate/openapi.json; built once, then shared (treat it as read-only). */
export function buildOpenApiDocument(): JsonObject {
  cached ??= build();
  return cached;
}

function build(): JsonObject {
  const schemas = { ...componentSchemas(INPUT_SCHEMAS, 'input'), ...componentSchemas(OUTPUT_SCHEMAS, 'output') };
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);

  const responses: Record<string, JsonObject> = {};
  for (const [status, [name, description]] of Object.entries(ERROR_RESPONSES)) {
    responses[name] = {
      description,
      content: { 'application/json': { schema: ref('Error') } },
      ...(status === '429' ? { headers: { 'Retry-After': header('Seconds until the lockout ends') } } : {}),
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'ComfyGate',
      version: packageVersion(),
      summary: 'An authenticating gate in front of ComfyUI',
      description:
        'The admin and self-service API of ComfyGate. Everything outside `/gate/` is ComfyUI itself, passed ' +
        'through after the same credential check. A credential goes in `X-API-Key`, `Authorization: Bearer`, ' +
        'the `token` query parameter, or the session cookie from `/gate/login`. Every error the gate answers ' +
        'itself is `{"error":{"code","message"}}`. Cookie-authenticated changes must be sent as JSON.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'Keys', description: 'API keys for teammates and scripts (admin)' },
      { name: 'Self-service', description: 'What any key may ask about itself' },
      { name: 'Usage', description: 'Per key, per day (admin)' },
      { name: 'Logs', description: 'Request log and audit log (admin)' },
      { name: 'Settings', description: 'Runtime settings (admin)' },
      { name: 'Status', description: 'The overview the tray and dashboard show (admin)' },
      { name: 'Session', description: 'Browser sign-in for teammates' },
      { name: 'Operations', description: 'Health checks and metrics' },
    ],
    paths,
    components: {
      schemas,
      responses,
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (cgk_…)' },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key, an access token from POST /gate/api/token, or (metrics only) the metrics token',
        },
        cookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The session from /gate/login' },
      },
    },
  };
}

function operation(route: RouteSpec): JsonObject {
  const parameters: JsonObject[] = [];
  for (const match of route.path.matchAll(/\{(\w+)\}/g)) {
    parameters.push({ name: match[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  if (route.query) parameters.push(...queryParameters(route.query));

  const responses: Record<string, JsonObject> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    if (spec) responses[status] = response(spec);
  }
  for (const status of route.errors)
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status][0]}` };

  const note = ROLE_NOTE[route.access];
  const description = [route.description, note].filter((part) => part !== undefined).join('\n\n');
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(description ? { description } : {}),
    security: SECURITY[route.access],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: requestBody(route.body) } : {}),
    responses,
  };
}

function requestBody(body: NonNullable<RouteSpec['body']>): JsonObject {
  const content: JsonObject = { 'application/json': { schema: ref(body.schema) } };
  if (body.form) content['application/x-www-form-urlencoded'] = { schema: ref(body.schema) };
  return { required: !body.optional, content };
}

function response(spec: ResponseSpec): JsonObject {
  const out: JsonObject = { description: spec.description };
  if (spec.headers) {
    out['headers'] = Object.fromEntries(Object.entries(spec.headers).map(([name, text]) => [name, header(text)]));
  }
  if (spec.json !== undefined) {
    const schema = Array.isArray(spec.json) ? { type: 'array', items: ref(spec.json[0]) } : ref(spec.json);
    out['content'] = { 'application/json': { schema } };
  } else if (spec.media) {
    out['content'] = { [spec.media.type]: { schema: { type: 'string' }, example: spec.media.example } };
  }
  return out;
}

function queryParameters(query: z.ZodObject): JsonObject[] {
  const json = clean(z.toJSONSchema(query, { target: 'draft-2020-12', io: 'input' }));
  const properties = (json.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set(json.required ?? []);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

/** Converts named zod schemas together, so they refer to each other by `$ref` instead of repeating. */
function componentSchemas(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, clean(schema as JsonObject)]));
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const DATE_FORMATS = new Set<unknown>(['date-time', 'date']);

/**
 * Drops what zod adds for a standalone JSON Schema but is noise inside OpenAPI: `$schema`/`$id` per
 * component, the date regexes next to `format: date(-time)`, and the ±2^53 bounds of every integer.
 */
function clean<T>(node: T): T {
  if (Array.isArray(node)) return node.map((item: unknown) => clean(item)) as T;
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(node)) {
    if (name === '$schema' || name === '$id') continue;
    if (name === 'pattern' && DATE_FORMATS.has((node as JsonObject)['format'])) continue;
    if ((name === 'maximum' && value === MAX_SAFE) || (name === 'minimum' && value === -MAX_SAFE)) continue;
    out[name] = clean(value);
  }
  return out as T;
}

function ref(id: InputId | OutputId): JsonObject {
  return { $ref: `#/components/schemas/${id}` };
}

function header(description: string): JsonObject {
  return { description, schema: { type: 'string' } };
}

/** The version of the package this file ships in: src (server/docs) and build (dist/server/docs) sit at different depths. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'comfygate' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // An unreadable package.json is not worth failing the docs over.
      }
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}
