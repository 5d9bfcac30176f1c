import { networkInterfaces } from 'node:os';
import type { Logger } from '../appLog/logger.js';
import { GateError } from '../errors.js';
import type { AuditLog } from '../logs/auditLog.js';
import { isLoopbackBind } from '../pipeline/hostNames.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { resolveLocalName } from './localName.js';
import { isWildcardHost, localGateUrl, shareAddress, type ShareAddress } from './shareAddress.js';
import type { SharingActor, SharingReport } from './sharingSchema.js';
import { isSharedOnNetwork, listenHostFor, unprotectedRefusal } from './sharingChoice.js';

export interface SharingSwitchOptions {
  /** The address the gate listens on; the switch moves its host (the port is set once listening). */
  listen: { host: string; port: number };
  networkHost: string;
  scheme: 'http' | 'https';
  settings: Pick<SettingsStore, 'current' | 'updateStartup'>;
  listener: { moveTo(host: string): Promise<void> };
  /** Ends the live connections of other machines (this computer's own windows keep theirs). */
  closeRemoteSockets(reason: string): void;
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
  /** Rewrites gate.runtime.json after the address or the link changed; never throws. */
  rewriteRuntimeRecord(): Promise<void>;
  /** The link teammates open changed (a local name was found). */
  onShareChange(): void;
  /** The listener moved. */
  onMoved(network: boolean): void;
}

/**
 * The "This computer only / My network" switch, live: moves the listener without a restart, keeps
 * open connections, saves the choice for the next start, and knows the link teammates open.
 */
export class SharingSwitch {
  readonly #options: SharingSwitchOptions;
  #localName: string | null = null;
  // Read per request by the DNS-rebinding check: the switch moves the listener while the gate runs.
  #loopbackOnly: boolean;
  #moving: Promise<unknown> = Promise.resolve();

  constructor(options: SharingSwitchOptions) {
    this.#options = options;
    this.#loopbackOnly = isLoopbackBind(options.listen.host);
  }

  get loopbackOnly(): boolean {
    return this.#loopbackOnly;
  }

  get network(): boolean {
    return isSharedOnNetwork(this.#options.listen.host, this.#options.networkHost);
  }

  share(): ShareAddress {
    const { listen, scheme } = this.#options;
    return shareAddress(listen, networkInterfaces(), this.#localName, scheme);
  }

  report(): SharingReport {
    const { listen, scheme } = this.#options;
    return { network: this.network, listen: { ...listen }, url: localGateUrl(listen, scheme), share: this.share() };
  }

  /** Moves one at a time; refuses (a GateError `conflict`) to put the gate on the network with protection off. */
  set(network: boolean, actor: SharingActor): Promise<SharingReport> {
    const move = this.#moving.then(() => this.#move(network, actor));
    this.#moving = move.catch(() => undefined);
    return move;
  }

  /** On every interface, the share link prefers the machine's local name once it resolves. */
  findLocalName(): void {
    const { listen } = this.#options;
    if (!isWildcardHost(listen.host)) return;
    const host = listen.host;
    void resolveLocalName().then((name) => {
      if (name === null || listen.host !== host) return;
      this.#localName = name;
      this.#options.onShareChange();
      void this.#options.rewriteRuntimeRecord();
    });
  }

  async #move(network: boolean, actor: SharingActor): Promise<SharingReport> {
    const { listen, networkHost, settings, logger } = this.#options;
    const host = listenHostFor(network, networkHost);
    if (this.network === network) return this.report();
    const refusal = unprotectedRefusal(settings.current.mode, host);
    if (refusal !== null) throw new GateError('conflict', refusal.charAt(0).toUpperCase() + refusal.slice(1) + '.');
    await this.#options.listener.moveTo(host).catch((error: unknown) => {
      throw listenRefusal(error, host, listen.port);
    });
    listen.host = host;
    this.#loopbackOnly = isLoopbackBind(host);
    this.#localName = null;
    if (!network) this.#options.closeRemoteSockets('Sharing is now this computer only');
    logger.info({ host, port: listen.port }, network ? 'now sharing on the network' : 'now on this computer only');
    this.#options.audit.record({
      action: 'sharing.changed',
      actorKeyId: actor.keyId,
      clientIp: actor.clientIp,
      details: { network, host },
    });
    // Saved for the next start; the move itself already happened, so a failed save only warns.
    await settings
      .updateStartup({ host })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not save where the gate listens'));
    await this.#options.rewriteRuntimeRecord();
    this.findLocalName();
    this.#options.onMoved(network);
    return this.report();
  }
}

/** Why the listener could not move, in the words `serve` uses for the same failures. */
function listenRefusal(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new GateError('conflict', `Port ${port} on ${host} is already in use.`);
  if (code === 'EADDRNOTAVAIL') return new GateError('conflict', `Cannot listen on ${host}: no such address here.`);
  if (code === 'EACCES') return new GateError('conflict', `Not allowed to listen on ${host}:${port}.`);
  return error;
}
