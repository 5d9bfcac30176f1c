import type { AuthMode, Role } from '../api/types.js';

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
