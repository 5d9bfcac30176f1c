import { classifyRoute, userdataFileOf } from '../pipeline/routeClasses.js';
import { PER_USER_FILES } from './teammateSpaces.js';
import type { OwnSpaceRoute } from '../pipeline/findings.js';

const READ_SETTINGS: OwnSpaceRoute = { kind: 'read_settings', name: '', dest: '' };
const WRITE_SETTINGS: OwnSpaceRoute = { kind: 'write_settings', name: '', dest: '' };
const SETTINGS_ITEM = '/settings/';
const USERDATA_ITEM = '/userdata/';
const MOVE = '/move/';

/** aiohttp decodes `%2F` and `%25` into a path parameter; the rest is decoded by normalizePath already. */
function decodedParam(segment: string): string {
  return segment.includes('%') ? segment.replace(/%2F/gi, '/').replace(/%25/g, '%') : segment;
}

/**
 * Which own-space request this is (normalized path, see normalizePath.ts), or null. Only the exact
 * spelling of a per-user file counts: any other spelling stays in its route class (manage). Workflow
 * writes are those of the generate class (plain paths under workflows/ or subgraphs/).
 */
export function ownSpaceRoute(method: string | undefined, path: string): OwnSpaceRoute | null {
  if (method === 'GET' || method === 'POST') {
    const read = method === 'GET';
    if (path === '/settings') return read ? READ_SETTINGS : WRITE_SETTINGS;
    if (path.startsWith(SETTINGS_ITEM)) {
      const segment = path.slice(SETTINGS_ITEM.length);
      if (segment === '' || segment.includes('/')) return null;
      return { kind: read ? 'read_setting' : 'write_setting', name: decodedParam(segment), dest: '' };
    }
  }
  if (!path.startsWith(USERDATA_ITEM) || (method !== 'GET' && method !== 'POST' && method !== 'DELETE')) return null;
  const rest = path.slice(USERDATA_ITEM.length);
  const name = decodedParam(rest);
  if (PER_USER_FILES.has(name)) {
    if (method === 'DELETE') return null;
    return { kind: method === 'GET' ? 'read_file' : 'write_file', name, dest: '' };
  }
  if (method === 'GET' || classifyRoute(method, path) !== 'generate') return null;
  const move = rest.indexOf(MOVE);
  if (move !== -1) {
    if (method !== 'POST') return null;
    return {
      kind: 'move_workflow',
      name: userdataFileOf(rest.slice(0, move)),
      dest: userdataFileOf(rest.slice(move + MOVE.length)),
    };
  }
  if (rest.includes('/')) return null;
  return { kind: method === 'POST' ? 'write_workflow' : 'delete_workflow', name: userdataFileOf(rest), dest: '' };
}

/** Writes that land in the caller's own space under team isolation (their own ComfyUI user, or the gate's copy). */
export function isPerUserWrite(method: string, path: string): boolean {
  const kind = ownSpaceRoute(method, path)?.kind;
  return kind === 'write_settings' || kind === 'write_setting' || kind === 'write_file';
}
