import { GateError } from '../errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** The refusal a failed exchange with ComfyUI becomes: unreachable, too slow, or a request it cannot take. */
export function classifyUpstreamError(error: Error, upstreamUrl: string): GateError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GateError('upstream_timeout', `ComfyUI at ${upstreamUrl} did not answer in time`);
  }
  if (
    code === 'UND_ERR_INVALID_ARG' ||
    code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' ||
    code === 'UND_ERR_NOT_SUPPORTED'
  ) {
    return new GateError('bad_request', 'The request could not be forwarded: ' + error.message);
  }
  if (UNREACHABLE_CODES.has(code) || error.name === 'SocketError' || error.name === 'ConnectTimeoutError') {
    return new GateError('upstream_unreachable', `ComfyUI is not reachable at ${upstreamUrl}`);
  }
  return new GateError('upstream_unreachable', `ComfyUI at ${upstreamUrl} failed to answer: ${error.message}`);
}
