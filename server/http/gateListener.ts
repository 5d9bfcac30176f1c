import type { Server } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';

/**
 * Where the gate accepts connections, and moving that without a restart. Each address gets its own
 * server from `create` (same handlers); connections a server accepted stay with it after it stops
 * accepting, so open sessions, keep-alive connections and WebSockets survive a move.
 */
export class GateListener {
  #current: Server | undefined;
  /** Servers that stopped accepting but still carry connections they accepted before a move. */
  readonly #draining = new Set<Server>();

  constructor(private readonly create: () => Server) {}

  /** The port actually bound (a configured 0 picks a free one). */
  get port(): number {
    return (this.#current?.address() as AddressInfo | null)?.port ?? 0;
  }

  async listen(host: string, port: number): Promise<void> {
    const server = this.create();
    await listenOn(server, host, port);
    this.#current = server;
  }

  /**
   * Opens the new address first, then stops accepting on the old one, so no connection attempt is
   * refused during the handover. Where the system refuses the overlap (Linux will not bind 0.0.0.0
   * while 127.0.0.1 listens on the same port) the old one stops accepting first and comes back if
   * the new address cannot be opened.
   */
  async moveTo(host: string): Promise<void> {
    const old = this.#current;
    if (old === undefined) throw new Error('the gate is not listening');
    const port = this.port;
    const next = this.create();
    try {
      await listenOn(next, host, port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const oldHost = (old.address() as AddressInfo).address;
      stopAccepting(old);
      try {
        await listenOn(next, host, port);
      } catch (secondError) {
        const back = this.create();
        await listenOn(back, oldHost, port);
        this.#current = back;
        this.#drain(old);
        throw secondError;
      }
    }
    this.#current = next;
    if (old.listening) stopAccepting(old);
    this.#drain(old);
  }

  /** Stops accepting everywhere and ends idle connections; the rest end within the caller's grace. */
  close(): { closed: Promise<void>; closeAllConnections: () => void } {
    const servers = [...this.#draining, ...(this.#current ? [this.#current] : [])];
    this.#draining.clear();
    this.#current = undefined;
    const closed = Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) {
              server.once('close', () => resolve());
              // Also stops the timer that checks the remaining connections' timeouts.
              server.close();
              server.closeIdleConnections();
              return;
            }
            server.close(() => resolve());
            server.closeIdleConnections();
          })
      )
    ).then(() => undefined);
    return { closed, closeAllConnections: () => servers.forEach((server) => server.closeAllConnections()) };
  }

  #drain(server: Server): void {
    this.#draining.add(server);
    server.once('close', () => {
      if (!this.#draining.delete(server)) return;
      // Only now: http's close() would also end idle keep-alive connections a client means to reuse.
      server.close();
    });
  }
}

/** Stops accepting new connections and nothing else: http.Server#close would also end idle keep-alive ones. */
function stopAccepting(server: Server): void {
  NetServer.prototype.close.call(server);
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
