import type { StandIn } from '../pipeline/findings.js';
/**
 * ComfyUI's terminal log (§4.3) with nothing in it. The server log shows every teammate's prompts and
 * errors, so a caller who may not manage the server gets an empty one, and a subscription that is
 * accepted but never made: ComfyUI sends `logs` frames only to subscribed client ids.
 */
const EMPTY_LOG: StandIn = { status: 200, contentType: 'application/json; charset=utf-8', body: '""' };
const EMPTY_RAW_LOG: StandIn = {
  status: 200,
  contentType: 'application/json; charset=utf-8',
  // The terminal service's size when nothing ever resized it.
  body: '{"entries": [], "size": {"cols": 80, "rows": 24}}',
};
const SUBSCRIBED: StandIn = { status: 200, contentType: 'application/octet-stream', body: '' };

/**
 * The stand-in for a log route that clients call by themselves (the web UI's log panel, SDKs at
 * start-up), or undefined. `/internal` has no `/api` twin in ComfyUI, so only the raw path counts.
 */
export function logStandIn(method: string, rawUrl: string, path: string): StandIn | undefined {
  if (!rawUrl.startsWith('/internal/logs')) return undefined;
  if (method === 'PATCH') return path === '/internal/logs/subscribe' ? SUBSCRIBED : undefined;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (path === '/internal/logs') return EMPTY_LOG;
  if (path === '/internal/logs/raw') return EMPTY_RAW_LOG;
  return undefined;
}
