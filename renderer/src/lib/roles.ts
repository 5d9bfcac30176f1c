import type { AuthMode, Role, Scope } from '../api/types.js';

export const ROLES: Role[] = ['viewer', 'creator', 'operator', 'admin'];

export const ROLE_INFO: Record<Role, { label: string; summary: string }> = {
  viewer: { label: 'Viewer', summary: 'Sees the UI, the queue, history and images. Cannot queue prompts.' },
  creator: { label: 'Creator', summary: 'Queues prompts, uploads images and saves workflows; cannot jump the queue.' },
  operator: {
    label: 'Operator',
    summary: 'Everything in ComfyUI: frees memory, clears queues, installs custom nodes.',
  },
  admin: { label: 'Admin', summary: 'Everything an operator may, plus this dashboard: keys, settings, logs.' },
};

/**
 * The guest preset (server/keys/keyPresets.ts): a viewer whose own classes add generate. Described the same way
 * wherever it appears: it may generate, within tight limits.
 */
export const GUEST_INFO = {
  label: 'Guest',
  summary: 'A viewer that may also generate, within tight limits: see your limits.',
};

/** How a key is named to people: a guest by that name, every other key by its role. */
export function accessInfo(
  role: Role,
  scopes: readonly Scope[] | null | undefined
): { label: string; summary: string } {
  return role === 'viewer' && scopes?.includes('generate') ? GUEST_INFO : ROLE_INFO[role];
}

/** Whether a key may queue prompts: its own classes when it has them (a guest), else its role's. */
export function mayGenerate(role: Role, scopes: readonly Scope[] | null | undefined): boolean {
  return scopes ? scopes.includes('generate') : role !== 'viewer';
}

export const MODE_INFO: Record<AuthMode, { label: string; summary: string }> = {
  off: {
    label: 'Off',
    summary: 'Anyone who can reach the gate uses ComfyUI freely. Requests are still logged and counted.',
  },
  optional: {
    label: 'Optional',
    summary: 'Keys are counted and limited; callers without one pass as the anonymous tier. A wrong key is refused.',
  },
  required: {
    label: 'Required',
    summary: 'Every request needs a valid key (except public paths). Browsers are sent to the sign-in page.',
  },
};

export const MODES: AuthMode[] = ['off', 'optional', 'required'];
