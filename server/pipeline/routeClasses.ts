import { z } from 'zod';
import { scopeSchema, type Scope } from '../keys/keySchema.js';

/** What a ComfyUI route can do; a key needs the scope of the same name to call it. */
export type RouteClass = Scope;

/** One override from Settings: `path` is exact, or a prefix when it ends in `*`; no method = every method. */
export interface RouteOverride {
  path: string;
  method?: string;
  class: RouteClass;
}

const OVERRIDE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const routeOverrideSchema = z
  .object({
    path: z
      .string()
      .trim()
      .regex(/^\/[^?#\s]*$/, 'a route path starts with / and has no query, fragment or spaces')
      .refine((p) => !p.slice(0, -1).includes('*'), 'only a trailing * is allowed in a route path')
      .refine((p) => !p.split('/').some((s) => s === '..' || s === '.'), 'a route path has no . or .. segments')
      // Routes are matched after one leading /api is removed, so an override written with it would never match.
      .refine((p) => p !== '/api' && !p.startsWith('/api/'), 'write the route path without the leading /api'),
    method: z.enum(OVERRIDE_METHODS).optional(),
    class: scopeSchema,
  })
  .strict() satisfies z.ZodType<RouteOverride>;

/** A fixed class, or one read from the path parameters: a userdata write is as strong as its file. */
type Resolve = RouteClass | ((params: readonly string[]) => RouteClass);
/** `*` as method: every method, for subtrees classified by path alone. */
type TableMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';
/** `{name}` is one non-empty segment; a trailing `/*` matches the path before it and everything below. */
type TableRow = readonly [method: TableMethod, path: string, resolve: Resolve];

/**
 * Paths are the normalized ones (see normalizePath.ts): one leading `/api` already removed, `%2F`
 * and `%25` still encoded. HEAD is looked up as GET. A method a route does not list falls through to
 * the rule for unknown routes: GET counts as `read`, anything else as `manage`.
 */
export const ROUTE_TABLE: readonly TableRow[] = [
  // §3 core routes in server.py
  ['GET', '/', 'read'],
  ['GET', '/ws', 'read'],
  ['GET', '/embeddings', 'read'],
  ['GET', '/models', 'read'],
  ['GET', '/models/{folder}', 'read'],
  ['GET', '/extensions', 'read'],
  ['GET', '/view', 'read'],
  ['GET', '/view_metadata/{folder_name}', 'read'],
  // Shows ComfyUI's argv to every reader; hiding it from non-operators is part of team isolation (not built yet).
  ['GET', '/system_stats', 'read'],
  ['GET', '/features', 'read'],
  ['GET', '/prompt', 'read'],
  ['GET', '/object_info', 'read'],
  ['GET', '/object_info/{node_class}', 'read'],
  ['GET', '/history', 'read'],
  ['GET', '/history/{prompt_id}', 'read'],
  ['GET', '/queue', 'read'],
  ['POST', '/prompt', 'generate'],
  ['POST', '/upload/image', 'generate'],
  ['POST', '/upload/mask', 'generate'],
  ['POST', '/interrupt', 'generate'],
  ['POST', '/queue', 'generate'], // {"clear":true} needs manage: see needsManageForBody
  ['POST', '/history', 'generate'], // same
  ['POST', '/free', 'manage'],

  // §4.1 users, settings and userdata
  // The web UI reads it on every start (getUserConfig); refusing it would break the UI for viewers and
  // creators. With --multi-user, team isolation shows a caller only their own user (comfyUsers.ts).
  ['GET', '/users', 'read'],
  ['POST', '/users', 'manage'],
  ['GET', '/settings', 'read'],
  ['GET', '/settings/{id}', 'read'],
  // Everyone's settings (one ComfyUI user); under team isolation a caller's own land in their own space
  // and need only generate (authorizeStep.ts, ownSpaceAnswers.ts).
  ['POST', '/settings', 'manage'],
  ['POST', '/settings/{id}', 'manage'],
  ['GET', '/userdata', 'read'],
  ['GET', '/v2/userdata', 'read'],
  ['GET', '/userdata/{file}', 'read'],
  ['POST', '/userdata/{file}', userdataWriteClass],
  ['DELETE', '/userdata/{file}', userdataWriteClass],
  ['POST', '/userdata/{file}/move/{dest}', userdataWriteClass],

  // §4.2 model and custom-node managers
  ['GET', '/experiment/models', 'read'],
  ['GET', '/experiment/models/{folder}', 'read'],
  ['GET', '/experiment/models/preview/{folder}/{path_index}/*', 'read'], // {filename:.*} spans segments
  ['GET', '/workflow_templates', 'read'],
  ['GET', '/workflow_templates/*', 'read'], // static, exists only as /api/workflow_templates/…
  ['GET', '/i18n', 'read'],

  // §4.3 the /internal sub-app: logs, server folders, file lists of every user
  ['*', '/internal/*', 'manage'],

  // §4.4 static frontend (GET and HEAD only; any other unknown GET is static too and reads as well)
  ['GET', '/assets/*', 'read'], // the frontend bundle, and the §12 assets API reads
  ['GET', '/scripts/*', 'read'],
  ['GET', '/extensions/*', 'read'],
  ['GET', '/templates/*', 'read'],
  ['GET', '/docs/*', 'read'],

  // §12 jobs API (2026)
  ['GET', '/jobs', 'read'],
  ['GET', '/jobs/{id}', 'read'],
  ['POST', '/jobs/cancel', 'generate'],
  ['POST', '/jobs/{id}/cancel', 'generate'],

  // §12 assets API (2026); the shared asset library has no owner, so changing it is manage
  ['GET', '/assets', 'read'],
  ['POST', '/assets', 'manage'], // multipart upload whose tags may place it among the models
  ['POST', '/assets/from-hash', 'manage'],
  ['PUT', '/assets/{id}', 'manage'],
  ['DELETE', '/assets/{id}', 'manage'],
  ['POST', '/assets/{id}/tags', 'manage'],
  ['DELETE', '/assets/{id}/tags', 'manage'],
  ['POST', '/assets/seed', 'manage'],
  ['POST', '/assets/seed/cancel', 'manage'],
  ['POST', '/assets/prune', 'manage'],
  ['POST', '/assets/download', 'install'], // fetches any URL into the model folders, like the Manager's install_model
  ['GET', '/tasks/{id}', 'read'],
  ['DELETE', '/tasks/{id}', 'manage'],
  ['GET', '/tags', 'read'],
  ['GET', '/global_subgraphs', 'read'],
  ['GET', '/global_subgraphs/{id}', 'read'],
  ['GET', '/node_replacements', 'read'],

  // §9 ComfyUI-Manager installs and runs code. By path, never by method: before 2026-04 many of its
  // mutating routes were GETs (/manager/reboot, /snapshot/restore, /manager/queue/start, setters…).
  ['*', '/manager/*', 'install'],
  ['*', '/customnode/*', 'install'],
  ['*', '/snapshot/*', 'install'],
  ['*', '/externalmodel/*', 'install'],
  ['*', '/comfyui_manager/*', 'install'],
  ['*', '/model/install/*', 'install'], // Manager before 3.0
  // §9 Manager v4 (pip comfyui_manager with --enable-manager)
  ['*', '/v2/manager/*', 'install'],
  ['*', '/v2/customnode/*', 'install'],
  ['*', '/v2/snapshot/*', 'install'],
  ['*', '/v2/externalmodel/*', 'install'],
  ['*', '/v2/comfyui_manager/*', 'install'],
];

const CLASS_RANK: Readonly<Record<RouteClass, number>> = { read: 0, generate: 1, manage: 2, install: 3 };

function stricter(a: RouteClass, b: RouteClass): RouteClass {
  return CLASS_RANK[a] >= CLASS_RANK[b] ? a : b;
}

const ENCODED = /%(?:2F|25)/gi;
const ESCAPE_RUNS = /(?:%[0-9a-fA-F]{2})+/g;
const utf8 = new TextDecoder();

/** Python's urllib.parse.unquote: invalid escapes stay, bad UTF-8 becomes U+FFFD. */
function unquote(text: string): string {
  return text.replace(ESCAPE_RUNS, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return utf8.decode(bytes);
  });
}

/** The file a `{file}` parameter of the userdata routes names, as ComfyUI's user manager reads it. */
export function userdataFileOf(param: string): string {
  let file = param;
  if (file.includes('%')) {
    file = file.replace(ENCODED, (escape) => (escape[2] === '5' ? '%' : '/'));
    if (file.includes('%')) file = unquote(file);
  }
  return file;
}

/**
 * The class of a write to one userdata file, read the way ComfyUI will: aiohttp decodes `%2F` and
 * `%25` into the parameter, the user manager unquotes once more if a `%` is left, and on Windows `\`
 * separates too. Only plain paths under workflows/ or subgraphs/ are a creator's; the Manager's
 * config.ini (CVE-2025-67303) and system users (`__…`) are install, as is anything that might
 * resolve elsewhere (dot or empty segments, 8.3 short names, NUL).
 */
function userdataFileClass(param: string): RouteClass {
  const file = userdataFileOf(param);
  const parts = file.replaceAll('\\', '/').split('/');
  const head = parts[0]!;
  const folded = head.toLowerCase();
  if (folded.startsWith('comfyui-manager') || head.startsWith('__') || head.includes('~')) return 'install';
  if (file.includes('\0') || parts.some((part) => part === '' || part === '.' || part === '..')) return 'install';
  if ((head === 'workflows' || head === 'subgraphs') && parts.length > 1) return 'generate';
  return 'manage';
}

/** A move is as strict as the stricter of its source and destination. */
function userdataWriteClass(params: readonly string[]): RouteClass {
  let routeClass: RouteClass = 'read';
  for (const param of params) routeClass = stricter(routeClass, userdataFileClass(param));
  return routeClass;
}

interface Subtree {
  readonly rest: readonly string[];
  readonly routeClass: RouteClass;
}

interface Pattern {
  readonly method: string;
  /** null = a `{param}`. Starts after the leading empty segment. */
  readonly segments: readonly (string | null)[];
  readonly open: boolean;
  readonly resolve: Resolve;
}

/** Exact path → method → class: one Map lookup for most requests. */
const exactRoutes = new Map<string, Map<string, Resolve>>();
/** Routes with parameters or a trailing `/*`, keyed by their first segment. */
const patternRoutes = new Map<string, Pattern[]>();
/** Method-independent subtrees (`*` rows), keyed by their first segment. */
const subtrees = new Map<string, Subtree[]>();

function compileTable(rows: readonly TableRow[]): void {
  for (const [method, path, resolve] of rows) {
    if (!path.startsWith('/')) throw new Error(`route table: ${path} does not start with /`);
    const open = path.endsWith('/*');
    const base = open ? path.slice(0, -2) : path;
    const segments = base === '/' ? [''] : base.slice(1).split('/');
    const literal = segments.every((s) => !s.startsWith('{'));
    const first = segments[0]!;
    if (first.startsWith('{')) throw new Error(`route table: ${path} must start with a literal segment`);
    if (method === '*') {
      if (!open || !literal || typeof resolve !== 'string') {
        throw new Error(`route table: ${path} with method * must be a literal subtree with a fixed class`);
      }
      const list = subtrees.get(first) ?? [];
      list.push({ rest: segments.slice(1), routeClass: resolve });
      subtrees.set(first, list);
    } else if (!open && literal) {
      const byMethod = exactRoutes.get(path) ?? new Map<string, Resolve>();
      byMethod.set(method, resolve);
      exactRoutes.set(path, byMethod);
    } else {
      const list = patternRoutes.get(first) ?? [];
      list.push({ method, segments: segments.map((s) => (s.startsWith('{') ? null : s)), open, resolve });
      patternRoutes.set(first, list);
    }
  }
}

compileTable(ROUTE_TABLE);
// classifyRoute looks exact routes up before subtrees; that is only right while they never overlap.
for (const path of exactRoutes.keys()) {
  if (subtreeClass(path) !== undefined)
    throw new Error(`route table: ${path} lies inside a method-independent subtree`);
}

const NO_PARAMS: readonly string[] = [];

function resolveClass(resolve: Resolve, params: readonly string[]): RouteClass {
  return typeof resolve === 'string' ? resolve : resolve(params);
}

/**
 * Subtrees are matched on the stricter reading of the path: `%2F` counted as a separator and further
 * `/api` mirrors skipped, so no spelling can route a Manager call past its class even where a custom
 * node or another aiohttp version routes it.
 */
function subtreeClass(path: string): RouteClass | undefined {
  const slashed = path.includes('%2F') ? path.replaceAll('%2F', '/') : path;
  const end = slashed.indexOf('/', 1);
  const first = end === -1 ? slashed.slice(1) : slashed.slice(1, end);
  if (first !== 'api' && !subtrees.has(first)) return undefined;
  const segments = slashed.split('/');
  let i = 1;
  while (segments[i] === 'api') i++;
  const candidates = subtrees.get(segments[i] ?? '');
  if (!candidates) return undefined;
  for (const { rest, routeClass } of candidates) {
    if (rest.every((segment, k) => segments[i + 1 + k] === segment)) return routeClass;
  }
  return undefined;
}

function patternClass(method: string, path: string): RouteClass | undefined {
  const end = path.indexOf('/', 1);
  const candidates = patternRoutes.get(end === -1 ? path.slice(1) : path.slice(1, end));
  if (!candidates) return undefined;
  const segments = path.split('/');
  for (const pattern of candidates) {
    if (pattern.method !== method) continue;
    const params = matchPattern(pattern, segments);
    if (params) return resolveClass(pattern.resolve, params);
  }
  return undefined;
}

/** The parameters when `segments` (from path.split('/')) fit the pattern, else undefined. */
function matchPattern(pattern: Pattern, segments: readonly string[]): string[] | undefined {
  const count = pattern.segments.length;
  if (pattern.open ? segments.length - 1 < count : segments.length - 1 !== count) return undefined;
  const params: string[] = [];
  for (let k = 0; k < count; k++) {
    const expected = pattern.segments[k];
    const actual = segments[k + 1]!;
    if (expected === null) {
      if (actual === '') return undefined;
      params.push(actual);
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

function overrideClass(method: string, path: string, overrides: readonly RouteOverride[]): RouteClass | undefined {
  for (const override of overrides) {
    if (override.method !== undefined && (override.method === 'HEAD' ? 'GET' : override.method) !== method) continue;
    const pattern = override.path;
    const hit = pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
    if (hit) return override.class;
  }
  return undefined;
}

/**
 * The class of a request, from its method and its normalized path (normalizePath's output). Overrides
 * from Settings come first (the first match wins), then the route table; a route nobody knows is a
 * custom node's: GET and HEAD read, anything else manages.
 */
export function classifyRoute(method: string, path: string, overrides: readonly RouteOverride[] = []): RouteClass {
  const m = method === 'HEAD' ? 'GET' : method;
  if (overrides.length > 0) {
    const overridden = overrideClass(m, path, overrides);
    if (overridden !== undefined) return overridden;
  }
  // Exact routes first: no exact route lies inside a subtree (checked when the table is compiled).
  const exact = exactRoutes.get(path)?.get(m);
  if (exact !== undefined) return resolveClass(exact, NO_PARAMS);
  return subtreeClass(path) ?? patternClass(m, path) ?? (m === 'GET' ? 'read' : 'manage');
}

/**
 * ComfyUI-Manager's routes, spelled any way: the only method-independent subtrees of class install.
 * Clients probe them to learn whether the Manager is installed.
 */
export function isManagerRoute(path: string): boolean {
  return subtreeClass(path) === 'install';
}

/**
 * POST /queue and POST /history are `generate`, except that `{"clear": true}` wipes everyone's
 * entries and needs `manage`: the proxy reads the body of these two to decide.
 */
export function needsManageForBody(method: string, path: string): boolean {
  return method === 'POST' && (path === '/queue' || path === '/history');
}
