import type { Role, Scope } from './keySchema.js';

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
