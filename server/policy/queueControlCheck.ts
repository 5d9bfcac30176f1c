import { GateError } from '../errors.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { hasScope } from '../keys/roleScopes.js';
import { forbiddenScopeMessage } from './scopes.js';

/** Queue jumping: only roles that may manage the queue keep these. */
const QUEUE_JUMPING: ReadonlySet<string> = new Set(['front', 'number']);

/**
 * What of the queue a body may steer needs the manage scope: `POST /queue` / `POST /history` {clear}
 * is refused without it, and a prompt's `front` / `number` (queue jumping) are dropped from it.
 */
export function queueControlCheck(settings: SettingsStore): BodyCheck {
  return function queueControl(exchange, body) {
    const kind = exchange.bodyCheck;
    if ((kind !== 'queue_or_history' && kind !== 'prompt') || body.members === undefined) return undefined;
    const principal = exchange.principal;
    const role = principal ? principal.role : settings.current.anonymous.role;
    const scopes = principal ? principal.scopes : null;
    const mayManage = hasScope(role, scopes, 'manage');
    if (kind === 'prompt') {
      if (!mayManage) body.remove = QUEUE_JUMPING;
      return undefined;
    }
    if (body.value('clear') && !mayManage) {
      return new GateError(
        'forbidden_scope',
        forbiddenScopeMessage('manage', 'POST', exchange.path + ' {clear}', role, scopes)
      );
    }
    return undefined;
  };
}
