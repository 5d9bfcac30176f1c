/** What screens show of the gate's HTTPS certificate: enough for a teammate to check it, never the key. */
export interface TlsSummary {
  /** SHA-256 of the certificate, `AB:CD:…`: what a teammate compares with their browser's. */
  fingerprint256: string;
  /** Made by the gate (serve --https), or the operator's own (--tls-cert/--tls-key). */
  selfSigned: boolean;
  /** ISO date-time the certificate expires. */
  validTo: string;
}
