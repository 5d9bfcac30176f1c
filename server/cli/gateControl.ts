import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { Agent, fetch, type Response } from 'undici';
import type { RuntimeRecord } from '../runtime/runtimeRecord.js';

/** How long the CLI waits for the running gate to act on a request. */
export const CONTROL_TIMEOUT_MS = 5_000;

/** One request to the running gate's /gate/api/runtime routes, with the runtime record's control token. */
export function controlRequest(
  record: RuntimeRecord,
  path: string,
  init: { method: 'GET' | 'POST' | 'PUT'; json?: unknown }
): Promise<Response> {
  return fetch(`${record.url}/gate/api/runtime${path}`, {
    method: init.method,
    headers: {
      'x-comfygate-control': record.controlToken,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    ...(record.certificate === undefined ? {} : { dispatcher: trustingOnly(record.certificate) }),
  });
}

/**
 * Under HTTPS the CLI trusts the gate's own certificate, as the runtime record names it, for this one
 * connection: a self-signed one as its own root; an operator's (issued for a LAN or VPN name, not
 * 127.0.0.1) by its exact fingerprint. Verification stays on, and only for this agent.
 */
function trustingOnly(certificate: string): Agent {
  const pinned = new X509Certificate(certificate).fingerprint256;
  return new Agent({
    connect: {
      ca: [...rootCertificates, certificate],
      checkServerIdentity: (host: string, cert: PeerCertificate) =>
        cert.fingerprint256 === pinned ? undefined : checkServerIdentity(host, cert),
    },
  });
}
