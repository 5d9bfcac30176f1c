import type { RuntimeRecord } from '../runtime/runtimeRecord.js';

/** How long the CLI waits for the running gate to act on a request. */
export const CONTROL_TIMEOUT_MS = 5_000;

/** One request to the running gate's /gate/api/runtime routes, with the runtime record's control token. */
export function controlRequest(
  record: RuntimeRecord,
  path: string,
  init: { method: 'POST' | 'PUT'; json?: unknown }
): Promise<Response> {
  return fetch(`${record.url}/gate/api/runtime${path}`, {
    method: init.method,
    headers: {
      'x-comfygate-control': record.controlToken,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
  });
}
