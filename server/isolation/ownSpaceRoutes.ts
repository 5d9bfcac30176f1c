import { PER_USER_FILES } from './teammateSpaces.js';

/**
 * A request about a teammate's own ComfyUI settings or per-user files. `name` is the setting id or
 * the file name as ComfyUI's handler receives it (aiohttp decodes `%2F` and `%25` into the parameter).
 */
export interface OwnSpaceRoute {
  readonly kind: 'read_settings' | 'read_setting' | 'write_settings' | 'write_setting' | 'read_file' | 'write_file';
  readonly name: string;
}

const READ_SETTINGS: OwnSpaceRoute = { kind: 'read_settings', name: '' };
const WRITE_SETTINGS: OwnSpaceRoute = { kind: 'write_settings', name: '' };
const SETTINGS_ITEM = '/settings/';
const USERDATA_ITEM = '/userdata/';

function decodedParam(segment: string): string {
  return segment.includes('%') ? segment.replace(/%2F/gi, '/').replace(/%25/g, '%') : segment;
}

/**
 * Which own-space request this is (normalized path, see normalizePath.ts), or null. Only the exact
 * spelling of a per-user file counts: any other spelling stays in its route class (manage).
 */
export function ownSpaceRoute(method: string | undefined, path: string): OwnSpaceRoute | null {
  if (method !== 'GET' && method !== 'POST') return null;
  const read = method === 'GET';
  if (path === '/settings') return read ? READ_SETTINGS : WRITE_SETTINGS;
  if (path.startsWith(SETTINGS_ITEM)) {
    const segment = path.slice(SETTINGS_ITEM.length);
    if (segment === '' || segment.includes('/')) return null;
    return { kind: read ? 'read_setting' : 'write_setting', name: decodedParam(segment) };
  }
  if (path.startsWith(USERDATA_ITEM)) {
    const name = decodedParam(path.slice(USERDATA_ITEM.length));
    if (!PER_USER_FILES.has(name)) return null;
    return { kind: read ? 'read_file' : 'write_file', name };
  }
  return null;
}

/** Writes that land in the caller's own space under team isolation (their own ComfyUI user, or the gate's copy). */
export function isPerUserWrite(method: string, path: string): boolean {
  const route = ownSpaceRoute(method, path);
  return (
    route !== null && (route.kind === 'write_settings' || route.kind === 'write_setting' || route.kind === 'write_file')
  );
}
