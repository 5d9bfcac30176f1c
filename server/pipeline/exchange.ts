import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ErrorCode, GateError } from '../errors.js';
import type { Scope } from '../keys/keySchema.js';
import type { AnswerFilter } from './answerFilter.js';
import type { IsolatedView, OwnSpaceRoute, OwnWindow, StandIn } from './findings.js';
import type { Principal } from './principal.js';

const BOOT = Date.now().toString(36);
let counter = 0;

/** Unique within this process and across restarts, without a random draw per request. */
export function nextRequestId(): string {
  return `${BOOT}-${(++counter).toString(36)}`;
}

/** Which body the body checks look at before forwarding (the only requests whose body the gate reads). */
export type BodyKind = 'prompt' | 'queue_or_history' | 'interrupt' | 'job_cancel';

/**
 * What the gate knows about one proxied request or WebSocket upgrade. Each step reads what the
 * earlier ones decided and adds its own finding; a class keeps the shape fixed for the JIT.
 */
export class Exchange {
  /** A WebSocket handshake the server's upgrade handler took, not a request that merely names `Upgrade`. */
  webSocket = false;
  /** Set by the auth step when a credential checked out; undefined means anonymous. */
  principal: Principal | undefined = undefined;
  /** The normalized path (see normalizePath.ts); the raw path until the authorize step ran. */
  path: string;
  /** The route class (routeClasses.ts) the authorize step decided on. */
  routeClass: Scope | null = null;
  /** Whose limits apply: a key id, `anon:<ip>`, or null when nothing is limited. */
  limitSubject: string | null = null;
  /** Extra response headers for the client ([name, value, …]): the rate-limit headers. */
  responseHeaders: readonly string[] | null = null;
  /** The subject whose own prompts are all this caller may see and touch (team isolation), or null. */
  isolatedAs: string | null = null;
  /** The ComfyUI answer the gate rewrites for an isolated caller before it reaches them. */
  isolatedView: IsolatedView | null = null;
  /** Rewrites ComfyUI's answer before it reaches the caller (team isolation's views), or null to stream it as is. */
  answerFilter: AnswerFilter | null = null;
  /** An isolated caller's own settings or per-user file, answered from their own space (ownSpaceAnswers.ts). */
  ownSpace: OwnSpaceRoute | null = null;
  /** The page of their own entries an isolated caller asked `/history` or `/jobs` for. */
  ownWindow: OwnWindow | null = null;
  /** The ComfyUI user (`Comfy-User`) the gate sends for this caller under `--multi-user`, or null. */
  comfyUser: string | null = null;
  /** Work a step started that must finish before forwarding (creating the caller's ComfyUI user). */
  pending: Promise<GateError | undefined> | null = null;
  bodyCheck: BodyKind | null = null;
  /** What the gate answers itself in ComfyUI's place (a feature the caller may not see), or null. */
  standIn: StandIn | null = null;
  /** Streams the request body to ComfyUI through a check of its own (team isolation's uploads). */
  bodyFilter: ((req: IncomingMessage) => Readable) | null = null;
  /** The body the body checks read, as the pieces to forward (slices of the bytes read, new text where it edited). */
  body: readonly Buffer[] | null = null;
  /** The prompt id of a `POST /prompt`, known before forwarding because the gate sets it. */
  promptId: string | null = null;
  /** Prompt ids a `POST /queue {delete}` asks to remove: their queue slots free up on success. */
  deletedPrompts: readonly string[] | null = null;
  /** Time to ComfyUI's response headers, ms. */
  upstreamMs: number | null = null;
  /** The gate's own refusal code, when it answered instead of ComfyUI. */
  refusal: ErrorCode | null = null;
  /** The id the request log shows for this request; refusals carry it in their body. */
  readonly requestId = nextRequestId();
  readonly startedAt = performance.now();
  readonly time = Date.now();

  constructor(
    readonly req: IncomingMessage,
    /** The scheme the client used to reach the gate: decides the gate's own origin. */
    readonly secure: boolean,
    readonly clientIp: string,
    /** The host the browser addressed, as a trusted proxy named it; null for a request that came directly. */
    readonly forwardedHost: string | null = null
  ) {
    this.path = req.url ?? '/';
  }
}
