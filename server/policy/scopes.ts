import type { Role, Scope } from '../keys/keySchema.js';
import { effectiveScopes } from '../keys/roleScopes.js';
import type { RouteClass } from '../pipeline/routeClasses.js';

const MAX_PATH_IN_MESSAGE = 200;

/**
 * The 403 message: names the scope that is missing and what the key has, so whoever holds the key
 * knows what to ask an admin for.
 */
export function forbiddenScopeMessage(
  routeClass: RouteClass,
  method: string,
  path: string,
  role: Role,
  explicitScopes: readonly Scope[] | null = null
): string {
  const shown = path.length > MAX_PATH_IN_MESSAGE ? `${path.slice(0, MAX_PATH_IN_MESSAGE)}…` : path;
  const scopes = effectiveScopes(role, explicitScopes);
  const has = scopes.length === 0 ? 'no scopes' : scopes.join(', ');
  return `${method} ${shown} needs scope '${routeClass}'; this key (role ${role}) has ${has}`;
}
