import { z } from 'zod';

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search;
    } catch {
      return false;
    }
  }, 'expected an http(s) URL of the ComfyUI server, such as http://127.0.0.1:8188')
  .transform((value) => new URL(value).origin);

/** One ComfyUI of several: a label for the dashboard and metrics, a weight for placement (a bigger GPU takes more). */
export const backendSpecSchema = z.strictObject({
  url: httpUrl,
  label: z.string().trim().min(1, 'expected a short name').max(64, 'expected at most 64 characters').optional(),
  weight: z.number('expected a number').positive('expected a positive number').max(1000).optional(),
});
export type BackendSpec = z.infer<typeof backendSpecSchema>;

/** Several backends: a list of URLs or of {url, label?, weight?}; from the environment, URLs separated by commas. */
const upstreamsList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part !== '')
      : value,
  z
    .array(z.union([httpUrl.transform((url): BackendSpec => ({ url })), backendSpecSchema]), 'expected a list of URLs')
    .min(1, 'expected at least one URL')
    .max(64, 'expected at most 64 backends')
    .refine((specs) => new Set(specs.map((spec) => spec.url)).size === specs.length, 'a URL is listed twice')
);
const redisUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'expected a Redis URL, such as redis://10.0.0.5:6379 or rediss://user:password@host:6380/0');

/** true/false from a flag or settings.json, or their spellings in an environment variable. */
const onOff = z.union([
  z.boolean(),
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], 'expected true or false')
    .transform((value) => ['true', '1', 'yes', 'on'].includes(value)),
]);

const millis = z.coerce
  .number()
  .int()
  .min(1)
  .max(24 * 3600 * 1000);

/** Every setting the gate runs with. Sources are merged key by key before this schema sees them. */
export const gateConfigSchema = z.object({
  /** ComfyUI's origin; absent means "discover it" (see upstream/upstreamDiscovery.ts). */
  upstream: httpUrl.optional(),
  /** Several ComfyUIs behind this gate (server/backends/); one entry behaves exactly like `upstream`. */
  upstreams: upstreamsList.optional(),
  host: z.string().trim().min(1, 'expected a host name or address').default('127.0.0.1'),
  /** Where the sharing switch's "My network" listens: every interface unless the operator names one address. */
  networkHost: z.string().trim().min(1, 'expected a host name or address').default('0.0.0.0'),
  port: z.coerce.number().int('expected a whole number').min(0).max(65535).default(8189),
  dataDir: z.string().trim().min(1, 'expected a folder path'),
  /** Serve HTTPS with a self-signed certificate the gate makes and renews (tls/ in the data dir). */
  https: onOff.default(false),
  /** The operator's own certificate and key (PEM files); HTTPS with these instead of a self-signed one. */
  tlsCert: z.string().trim().min(1, 'expected a file path').optional(),
  tlsKey: z.string().trim().min(1, 'expected a file path').optional(),
  /** How long ComfyUI may take to start answering a request (object_info and big prompts can be slow). */
  upstreamTimeoutMs: millis.default(300_000),
  connectTimeoutMs: millis.default(5_000),
  /** Idle client WebSockets are pinged this often; one missed pong closes them. */
  wsPingIntervalMs: millis.default(30_000),
  shutdownGraceMs: millis.default(5_000),
  /**
   * Memory all request bodies the gate reads to check them (prompts, queue edits) may hold at once;
   * a body past it is refused with 503 and Retry-After.
   */
  bodyBudgetMb: z.coerce
    .number()
    .int('expected a whole number of megabytes')
    .min(1)
    .max(64 * 1024)
    .default(256),
  /** Several gate replicas share keys, sign-outs and limits through this Redis (server/redis/); absent: files only. */
  redisUrl: redisUrl.optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type GateConfig = z.infer<typeof gateConfigSchema>;
export type GateConfigInput = z.input<typeof gateConfigSchema>;
export type ConfigKey = keyof GateConfig;

export const CONFIG_KEYS = Object.keys(gateConfigSchema.shape) as ConfigKey[];

/** Environment variable for each key: COMFYGATE_ + upper snake case. */
export function envName(key: ConfigKey): string {
  return 'COMFYGATE_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
