import { GateError } from '../errors.js';
import { normalizePath } from '../pipeline/normalizePath.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { RequestStep } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { isPerUserWrite } from '../isolation/ownSpaceRoutes.js';
import { classifyRoute, isManagerRoute, needsManageForBody } from '../pipeline/routeClasses.js';
import { hasScope } from '../keys/roleScopes.js';
import { forbiddenScopeMessage } from './scopes.js';
import { logStandIn } from './standIns.js';

/**
 * Decides on the path ComfyUI's router will see (normalized), never on the raw one, and refuses
 * shapes it would have to guess about. Mode `off` classifies only, for usage and logs.
 * Under team isolation a caller's writes of settings and per-user files land in their own space
 * (their own ComfyUI user under --multi-user, else the gate's copy for their key, see
 * ownSpaceAnswers.ts), never in what teammates share: they need only `generate` then.
 */
export function authorizeStep(settings: SettingsStore): RequestStep {
  return function authorize(exchange: Exchange): GateError | undefined {
    const req = exchange.req;
    const normalized = normalizePath(req.url ?? '/');
    if (!normalized.ok) return new GateError('bad_request', `Refused an ambiguous path: ${normalized.reason}`);
    const method = req.method ?? 'GET';
    const path = normalized.path;
    exchange.path = path;
    const { mode, routeOverrides, anonymous, isolation } = settings.current;
    let routeClass = classifyRoute(method, path, routeOverrides);
    exchange.routeClass = routeClass;
    if (mode === 'off') return undefined;

    const principal = exchange.principal;
    // Anonymous in `required` got here through a public path the operator opened on purpose.
    if (!principal && mode === 'required') return undefined;
    const role = principal ? principal.role : anonymous.role;
    const scopes = principal ? principal.scopes : null;
    if (
      routeClass === 'manage' &&
      isolation &&
      isPerUserWrite(method, path) &&
      !hasScope(role, scopes, 'manage') &&
      // An operator's own entry for the route stands.
      (routeOverrides.length === 0 || classifyRoute(method, path) === routeClass)
    ) {
      routeClass = 'generate';
      exchange.routeClass = routeClass;
    }
    if (!hasScope(role, scopes, routeClass)) {
      const why = forbiddenScopeMessage(routeClass, method, path, role, scopes);
      // What clients probe by themselves looks like a ComfyUI without that feature (DESIGN "What a teammate sees").
      if (routeClass === 'install' && isManagerRoute(path)) {
        return new GateError('not_available', `ComfyUI-Manager is not available to this key: ${why}`);
      }
      const standIn = exchange.webSocket ? undefined : logStandIn(method, req.url ?? '/', path);
      if (standIn !== undefined) {
        exchange.standIn = standIn;
        return undefined;
      }
      return new GateError('forbidden_scope', why);
    }
    if (method === 'POST') {
      if (path === '/prompt') exchange.bodyCheck = 'prompt';
      else if (needsManageForBody(method, path)) exchange.bodyCheck = 'queue_or_history';
    }
    return undefined;
  };
}
