import type { Logger } from '../appLog/logger.js';
import type { KeyStore } from '../keys/keyStore.js';
import type { WsRelay } from './wsRelay.js';
import type { SettingsStore } from '../settings/settingsStore.js';

/**
 * A relayed WebSocket lives only as long as the credential it opened with: a revoked key's sockets close,
 * and "sign out everywhere" closes those opened with the key's older sessions.
 */
export function closeSocketsOfEndedKeys(keys: KeyStore, relay: WsRelay, logger: Logger): void {
  keys.events.on('changed', (revoked) => {
    if (revoked.size === 0) return;
    const closed = relay.closeWhere(
      (s) => s.principal !== undefined && revoked.has(s.principal.keyId),
      'API key revoked'
    );
    if (closed > 0) logger.info({ closed }, 'closed WebSockets of revoked keys');
  });
  keys.events.on('sessionsEnded', (keyIds) => {
    relay.closeWhere((s) => {
      const token = s.principal?.token;
      return token !== undefined && keyIds.has(token.keyId) && token.issuedAtMs <= keys.sessionsEndedAt(token.keyId);
    }, 'Signed out everywhere');
  });
}

/** When protection becomes Required, sockets opened without a key close. */
export function closeKeylessSocketsWhenRequired(settings: SettingsStore, relay: WsRelay): void {
  settings.follow('mode', (mode) => {
    if (mode === 'required') relay.closeWhere((s) => s.principal === undefined, 'A key is now required');
  });
}
