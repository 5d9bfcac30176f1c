/** How the browser reached a trusted proxy in front of the gate, as the proxy tells it. */
export interface ForwardedView {
  /** The first address in the chain that is not itself a trusted proxy. */
  clientIp: string;
  /** The browser used https (`X-Forwarded-Proto: https` or `Forwarded: proto=https`). */
  secure: boolean;
  /** The host the browser addressed (`X-Forwarded-Host` or `Forwarded: host=`); null when the proxy named none. */
  host: string | null;
}
