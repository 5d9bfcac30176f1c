/** How long a closed socket's clientId stays its caller's: the ComfyUI frontend reconnects after 300 ms. */
const RELEASE_GRACE_MS = 60_000;

interface Claim {
  /** Key id or `anon:<ip>`; null for sockets opened while protection was off. */
  subject: string | null;
  open: number;
  releasedAt: number;
}

/** The clientId a WebSocket asks ComfyUI for (`/ws?clientId=…`), or null when it lets ComfyUI pick one. */
export function clientIdOf(url: string): string | null {
  const query = url.indexOf('?');
  if (query === -1) return null;
  const id = new URLSearchParams(url.slice(query + 1)).get('clientId');
  return id ? id : null;
}

/**
 * ComfyUI gives a clientId's messages to the newest socket that asked for it. So one caller's
 * clientId is theirs while their socket is open and for a grace after: another caller asking for it
 * would take over their progress, previews and results.
 */
export class ClientIdClaims {
  readonly #claims = new Map<string, Claim>();

  mayUse(clientId: string, subject: string | null, now: number): boolean {
    const claim = this.#claims.get(clientId);
    if (!claim || claim.subject === subject) return true;
    return claim.open === 0 && now - claim.releasedAt >= RELEASE_GRACE_MS;
  }

  open(clientId: string, subject: string | null): void {
    const claim = this.#claims.get(clientId);
    if (claim && claim.subject === subject) claim.open++;
    else this.#claims.set(clientId, { subject, open: 1, releasedAt: 0 });
  }

  close(clientId: string, now: number): void {
    const claim = this.#claims.get(clientId);
    if (!claim || claim.open === 0) return;
    claim.open--;
    if (claim.open === 0) claim.releasedAt = now;
  }

  forgetReleased(now: number): void {
    for (const [clientId, claim] of this.#claims) {
      if (claim.open === 0 && now - claim.releasedAt >= RELEASE_GRACE_MS) this.#claims.delete(clientId);
    }
  }
}
