import type { Role, Scope } from '../keys/keySchema.js';
import type { RouteClass } from './routeClasses.js';

const ALL_SCOPES: readonly Scope[] = ['read', 'generate', 'manage', 'install'];

/** Admin's extra power is the gate's admin API, which no scope grants; on ComfyUI routes it equals operator. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  viewer: ['read'],
  creator: ['read', 'generate'],
  operator: ALL_SCOPES,
  admin: ALL_SCOPES,
};

/** Explicit scopes on a key replace its role's scopes for ComfyUI routes (in canonical order, no repeats). */
export function effectiveScopes(role: Role, explicitScopes: readonly Scope[] | null): readonly Scope[] {
  if (explicitScopes === null) return ROLE_SCOPES[role];
  return ALL_SCOPES.filter((scope) => explicitScopes.includes(scope));
}

/** On every proxied request, so it allocates nothing. */
export function hasScope(role: Role, explicitScopes: readonly Scope[] | null, needed: Scope): boolean {
  return (explicitScopes ?? ROLE_SCOPES[role]).includes(needed);
}

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
