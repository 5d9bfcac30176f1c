import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { GateError } from '../errors.js';
import { sendRefusal } from '../pages/proxiedRefusal.js';
import { isJsonObject } from '../pipeline/jsonMembers.js';
import { classifyUpstreamError } from '../upstream/upstreamErrors.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { Upstream } from '../upstream/upstream.js';
import type { OwnSpaceRoute } from '../pipeline/findings.js';
import {
  MAX_SETTING_ID,
  MAX_SPACE_BYTES,
  SpaceFullError,
  settingIdSchema,
  settingsPatchSchema,
  type JsonValue,
  type TeammateSpace,
  type TeammateSpaces,
} from './teammateSpaces.js';

export interface OwnSpaceAnswerDeps {
  spaces: TeammateSpaces;
  upstream: Upstream;
  /** Whether ComfyUI runs with `--multi-user` (then it keeps each caller's space itself), unknown while unreachable. */
  multiUser: () => boolean | undefined;
  /** Longest wait for ComfyUI's settings when the gate merges them. */
  timeoutMs: number;
  /** Everything that is not an own-space request, and own-space reads with nothing of the caller's in them. */
  forward: (exchange: Exchange, res: ServerResponse) => void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Where a forwarded own-space request leads: what to record once ComfyUI answers `status`. */
interface Outcome {
  status: number;
  change: (space: TeammateSpace) => void;
}

/**
 * ComfyUI without `--multi-user` has one user for everyone, so a teammate's settings change would
 * change every teammate's UI, and the gate refused it. Instead the gate answers an isolated
 * caller's `POST /settings`, `POST /settings/{id}` and per-user file writes itself, into their own
 * space (teammateSpaces.ts), and shows them ComfyUI's shared settings and files with their own on
 * top. Saved workflows stay in ComfyUI's shared folder, where a teammate may replace, move or delete
 * only those they saved. Under `--multi-user` ComfyUI keeps each key's user apart already and
 * everything is forwarded.
 */
export function createOwnSpaceAnswers(deps: OwnSpaceAnswerDeps): {
  forward: (exchange: Exchange, res: ServerResponse) => void;
  onResponse: (exchange: Exchange, statusCode: number) => void;
} {
  const { spaces, upstream, multiUser, forward } = deps;
  const outcomes = new WeakMap<Exchange, Outcome>();
  return {
    forward(exchange, res) {
      const route = exchange.ownSpace;
      if (route === null) return forward(exchange, res);
      const shared = multiUser();
      if (shared === true) return forward(exchange, res);
      if (shared === undefined) {
        // Where the write belongs depends on how ComfyUI runs; it cannot be asked right now.
        const unreachable = new GateError('upstream_unreachable', `ComfyUI is not reachable at ${upstream.url}`);
        return refuse(exchange, res, unreachable);
      }
      answer(deps, exchange, res, route, outcomes).catch((error: unknown) => {
        if (error instanceof SpaceFullError) error = new GateError('payload_too_large', error.message);
        if (!(error instanceof GateError)) {
          error = new GateError('internal', 'The gate could not read or save your own ComfyUI settings or workflows');
        }
        refuse(exchange, res, error as GateError);
      });
    },

    /**
     * ComfyUI's status for a forwarded request, before its answer reaches the client: a workflow saved,
     * moved or deleted is recorded (queued) first, so the caller's next request already sees it.
     */
    onResponse(exchange, statusCode) {
      if (exchange.ownSpace === null) return;
      const outcome = outcomes.get(exchange);
      if (outcome === undefined || outcome.status !== statusCode) return;
      // The file is saved either way; a record that cannot be written only keeps the caller from replacing it later.
      spaces.update(exchange.isolatedAs!, outcome.change).catch(() => undefined);
    },
  };
}

async function answer(
  { spaces, upstream, timeoutMs, forward }: OwnSpaceAnswerDeps,
  exchange: Exchange,
  res: ServerResponse,
  { kind, name, dest }: OwnSpaceRoute,
  outcomes: WeakMap<Exchange, Outcome>
): Promise<void> {
  const subject = exchange.isolatedAs!;
  const space = await spaces.get(subject);
  switch (kind) {
    case 'read_settings': {
      if (Object.keys(space.settings).length === 0) return forward(exchange, res);
      const merged = { ...(await comfySettings(upstream, timeoutMs, exchange)), ...space.settings };
      return sendJson(exchange, res, merged);
    }
    case 'read_setting':
      if (!Object.hasOwn(space.settings, name)) return forward(exchange, res);
      return sendJson(exchange, res, space.settings[name]!);
    case 'read_file': {
      const text = space.files[name];
      if (text === undefined) return forward(exchange, res);
      return send(exchange, res, 200, fileHeaders(name), Buffer.from(text, 'utf8'));
    }
    case 'write_setting': {
      const id = settingIdSchema.safeParse(name);
      if (!id.success) throw new GateError('bad_request', `A setting id is 1 to ${MAX_SETTING_ID} characters long`);
      const value = parseJson(await readBody(exchange.req), 'The setting’s value is not JSON');
      await spaces.update(subject, (draft) => {
        draft.settings[id.data] = value;
      });
      return send(exchange, res, 200, {}, null);
    }
    case 'write_settings': {
      const patch = settingsPatchSchema.safeParse(parseJson(await readBody(exchange.req), 'The settings are not JSON'));
      if (!patch.success) {
        throw new GateError(
          'bad_request',
          `POST /settings takes a JSON object of setting ids (1 to ${MAX_SETTING_ID} characters)`
        );
      }
      await spaces.update(subject, (draft) => Object.assign(draft.settings, patch.data));
      return send(exchange, res, 200, {}, null);
    }
    case 'write_file':
      return writeFile(spaces, exchange, res, name);
    case 'write_workflow':
      // Saving anew never replaces a file someone else saved: ComfyUI answers 409 for an existing one.
      if (!space.workflows.includes(name)) exchange.req.url = withOverwriteOff(exchange.req.url ?? '/');
      outcomes.set(exchange, { status: 200, change: (draft) => claim(draft, name) });
      return forward(exchange, res);
    case 'delete_workflow':
      if (!space.workflows.includes(name)) throw notYours(name);
      outcomes.set(exchange, { status: 204, change: (draft) => release(draft, name) });
      return forward(exchange, res);
    case 'move_workflow':
      if (!space.workflows.includes(name)) throw notYours(name);
      if (!space.workflows.includes(dest)) exchange.req.url = withOverwriteOff(exchange.req.url ?? '/');
      outcomes.set(exchange, {
        status: 200,
        change: (draft) => {
          release(draft, name);
          claim(draft, dest);
        },
      });
      return forward(exchange, res);
  }
}

/** As ComfyUI's `POST /userdata/{file}`: `overwrite` (default true), `full_info`, 409 on an existing file. */
async function writeFile(spaces: TeammateSpaces, exchange: Exchange, res: ServerResponse, name: string): Promise<void> {
  const query = new URLSearchParams(queryOf(exchange.req.url ?? ''));
  const overwrite = (query.get('overwrite') ?? 'true') !== 'false';
  const fullInfo = (query.get('full_info') ?? 'false').toLowerCase() === 'true';
  const body = await readBody(exchange.req);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new GateError('bad_request', `${name} must be UTF-8 text`);
  }
  if (!overwrite && Object.hasOwn((await spaces.get(exchange.isolatedAs!)).files, name)) {
    return send(
      exchange,
      res,
      409,
      { 'content-type': 'text/plain; charset=utf-8' },
      Buffer.from('File already exists')
    );
  }
  await spaces.update(exchange.isolatedAs!, (draft) => {
    draft.files[name] = text;
  });
  const seconds = Date.now() / 1000;
  const info = { path: name, size: body.length, modified: seconds, created: seconds };
  return sendJson(exchange, res, fullInfo ? info : name);
}

function claim(space: TeammateSpace, file: string): void {
  if (!space.workflows.includes(file)) space.workflows.push(file);
}

function release(space: TeammateSpace, file: string): void {
  space.workflows = space.workflows.filter((own) => own !== file);
}

function notYours(file: string): GateError {
  return new GateError(
    'forbidden',
    `${file} was not saved with your key; without ComfyUI's --multi-user teammates share saved workflows, and you may change only your own (save a copy under another name)`
  );
}

/** The request target with `overwrite=false` in place of any `overwrite` the client sent. */
function withOverwriteOff(url: string): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const kept =
    at === -1
      ? []
      : url
          .slice(at + 1)
          .split('&')
          .filter((part) => part !== '' && !/^overwrite(=|$)/.test(part));
  kept.push('overwrite=false');
  return `${path}?${kept.join('&')}`;
}

function refuse(exchange: Exchange, res: ServerResponse, error: GateError): void {
  exchange.refusal = error.code;
  // An unread body is discarded, not buffered.
  exchange.req.resume();
  // ComfyUI's error shape, as every refusal of a ComfyUI route (proxiedRefusal.ts).
  sendRefusal(exchange, res, error, headersOf(exchange));
}

/** ComfyUI's own settings of its one user, which every teammate shares. */
async function comfySettings(
  upstream: Upstream,
  timeoutMs: number,
  exchange: Exchange
): Promise<Record<string, JsonValue>> {
  let status: number;
  let text: string;
  try {
    const answer = await upstream.pool.request({
      path: '/settings',
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    exchange.upstreamMs = performance.now() - exchange.startedAt;
    status = answer.statusCode;
    text = await answer.body.text();
  } catch (error) {
    const gateError = classifyUpstreamError(error as Error, upstream.url);
    if (gateError.code === 'upstream_unreachable') upstream.markReachable(false);
    throw gateError;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (status !== 200 || !isJsonObject(parsed)) {
    throw new GateError(
      'upstream_unexpected',
      `ComfyUI at ${upstream.url} did not answer GET /settings with its settings`
    );
  }
  return parsed as Record<string, JsonValue>;
}

/** The request body, up to a teammate's whole space; larger is refused before it is all read. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): GateError =>
      new GateError(
        'payload_too_large',
        `The request body is larger than the ${MAX_SPACE_BYTES} bytes the gate keeps per teammate`
      );
    if (Number(req.headers['content-length'] ?? 0) > MAX_SPACE_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_SPACE_BYTES) {
        req.off('data', onData);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new GateError('bad_request', 'The request body ended early'));
    });
  });
}

function parseJson(body: Buffer, message: string): JsonValue {
  try {
    return JSON.parse(body.toString('utf8')) as JsonValue;
  } catch {
    throw new GateError('bad_request', message);
  }
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

/** As ComfyUI's FileResponse for a JSON file, served as a download as the gate does for every userdata file. */
function fileHeaders(name: string): OutgoingHttpHeaders {
  return { 'content-type': 'application/json', 'content-disposition': `attachment; filename="${name}"` };
}

function headersOf(exchange: Exchange): Record<string, string> {
  const out: Record<string, string> = {};
  const extra = exchange.responseHeaders;
  if (extra) for (let i = 0; i + 1 < extra.length; i += 2) out[extra[i]!.toLowerCase()] = extra[i + 1]!;
  return out;
}

function sendJson(exchange: Exchange, res: ServerResponse, value: JsonValue): void {
  send(exchange, res, 200, { 'content-type': 'application/json; charset=utf-8' }, Buffer.from(JSON.stringify(value)));
}

function send(
  exchange: Exchange,
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: Buffer | null
): void {
  res.writeHead(status, {
    ...headersOf(exchange),
    ...headers,
    'content-length': body === null ? 0 : body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body ?? undefined);
}
