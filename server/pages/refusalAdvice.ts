import type { ErrorCode } from '../errors.js';

/** What a person refused by the gate reads next to the gate's message. */
export interface RefusalAdvice {
  /** What happened, in a few plain words (the HTML page's heading). */
  title: string;
  /** What to do about it: also ComfyUI's `error.details`, which both ComfyUI frontends print after the message. */
  todo: string;
  /** Offer a link to the sign-in page: a new session or another key fixes it. */
  signIn: boolean;
  /** Offer to load the same address again: the cause passes by itself. */
  retry: boolean;
}

const ASK = 'the person who runs this ComfyUI';

const ADVICE: Readonly<Record<ErrorCode, RefusalAdvice>> = {
  bad_request: {
    title: 'The gate could not read this request',
    todo: 'Check the address for typos (no "//" or ".." in the path); if it came from a link, open ComfyUI from its start page.',
    signIn: false,
    retry: false,
  },
  login_required: {
    title: 'Sign in to use this ComfyUI',
    todo: `Sign in with the API key you were given; ask ${ASK} if you have none.`,
    signIn: true,
    retry: false,
  },
  unauthorized: {
    title: 'Your key or session is no longer valid',
    todo: `Sign in again. If your key was rotated, revoked or has expired, ask ${ASK} for a new one.`,
    signIn: true,
    retry: false,
  },
  forbidden: {
    title: 'This needs an admin key',
    todo: `Ask ${ASK} to do it, or for a key with the admin role.`,
    signIn: true,
    retry: false,
  },
  forbidden_origin: {
    title: 'Refused: the request came from another site',
    todo: "Open ComfyUI through this gate's own address, not through another page or a different host name.",
    signIn: false,
    retry: false,
  },
  forbidden_scope: {
    title: 'Your key may not do this',
    todo: `Your key's role does not include it. Ask ${ASK} for a key that may, or sign in with another key.`,
    signIn: true,
    retry: false,
  },
  not_your_prompt: {
    title: "That is another teammate's prompt",
    todo: 'You can stop or delete only your own prompts; whoever queued it, or an operator, can stop this one.',
    signIn: false,
    retry: false,
  },
  not_your_file: {
    title: "That file is another teammate's",
    todo: 'Upload under another file name (or leave "overwrite" off and ComfyUI picks a free name); only its owner or an operator can replace it.',
    signIn: false,
    retry: false,
  },
  conflict: {
    title: 'That belongs to another teammate',
    todo: 'Leave out the prompt_id or client_id you sent, or use one of your own, and try again.',
    signIn: false,
    retry: false,
  },
  payload_too_large: {
    title: 'The request is too large',
    todo: 'Send a smaller workflow; uploads of images and models are not limited this way.',
    signIn: false,
    retry: false,
  },
  rate_limit_minute: {
    title: 'Too many requests this minute',
    todo: `Your key's requests per minute are used up. Wait a moment, then try again; ask ${ASK} if you need more.`,
    signIn: false,
    retry: true,
  },
  rate_limit_hour: {
    title: 'Too many requests this hour',
    todo: `Your key's requests per hour are used up. Try again later; ask ${ASK} if you need more.`,
    signIn: false,
    retry: true,
  },
  generation_cap: {
    title: 'This prompt is larger than your key allows',
    todo: `Lower the size, batch, steps, frames or number of nodes named here; ask ${ASK} if you need larger generations.`,
    signIn: false,
    retry: false,
  },
  rate_limit_prompts_day: {
    title: "Today's prompts are used up",
    todo: `Your key may queue more prompts after midnight (the gate machine's time); ask ${ASK} if you need more.`,
    signIn: false,
    retry: false,
  },
  queue_limit: {
    title: 'You have as many prompts queued as your key allows',
    todo: 'Queue the next one when one of yours has finished.',
    signIn: false,
    retry: true,
  },
  gpu_quota: {
    title: "Today's GPU time is used up",
    todo: `Your key may queue more prompts after midnight (the gate machine's time); prompts already queued still run. Ask ${ASK} if you need more.`,
    signIn: false,
    retry: false,
  },
  locked_out: {
    title: 'Too many wrong keys from your address',
    todo: `Your address is locked out for a while. Wait, then sign in with the right key; ask ${ASK} if you lost it.`,
    signIn: false,
    retry: true,
  },
  not_found: {
    title: 'Not found',
    todo: 'Check the address.',
    signIn: false,
    retry: false,
  },
  not_available: {
    title: 'Not available with your key',
    todo: `This part of ComfyUI is open only to operators. Ask ${ASK} if you need it.`,
    signIn: true,
    retry: false,
  },
  method_not_allowed: {
    title: 'Not possible here',
    todo: 'This address does not take that kind of request.',
    signIn: false,
    retry: false,
  },
  upstream_unreachable: {
    title: 'ComfyUI is not reachable',
    todo: `ComfyUI is not running or cannot be reached. Try again in a minute; if it stays down, tell ${ASK}.`,
    signIn: false,
    retry: true,
  },
  upstream_unexpected: {
    title: 'ComfyUI answered in an unexpected way',
    todo: `Try again; if it keeps happening, tell ${ASK}.`,
    signIn: false,
    retry: true,
  },
  upstream_timeout: {
    title: 'ComfyUI did not answer in time',
    todo: `ComfyUI may be busy or stuck. Try again in a minute; if it keeps happening, tell ${ASK}.`,
    signIn: false,
    retry: true,
  },
  shutting_down: {
    title: 'The gate is restarting',
    todo: 'Try again in a few seconds.',
    signIn: false,
    retry: true,
  },
  paused: {
    title: 'Sharing is paused',
    todo: 'The person who runs this ComfyUI paused sharing for now. Try again later.',
    signIn: false,
    retry: true,
  },
  websocket_limit: {
    title: 'Too many ComfyUI windows open with this key',
    todo: 'Close some ComfyUI tabs or scripts using this key and try again; ask the person who runs this ComfyUI if you need more at once.',
    signIn: false,
    retry: true,
  },
  server_busy: {
    title: 'The gate is busy',
    todo: 'Large prompts are being checked right now; try again in a few seconds.',
    signIn: false,
    retry: true,
  },
  data_file_corrupt: {
    title: 'The gate cannot save changes right now',
    todo: `A data file of the gate is damaged; tell ${ASK}. Everything else keeps working.`,
    signIn: false,
    retry: false,
  },
  shared_state_unavailable: {
    title: 'The gate cannot reach its shared state',
    todo: `The gates share keys and limits through Redis, which does not answer right now; tell ${ASK}.`,
    signIn: false,
    retry: true,
  },
  internal: {
    title: 'Something went wrong in the gate',
    todo: `Try again; if it keeps happening, tell ${ASK}.`,
    signIn: false,
    retry: true,
  },
};

export function refusalAdvice(code: ErrorCode): RefusalAdvice {
  return ADVICE[code];
}
