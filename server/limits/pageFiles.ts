import type { IncomingMessage } from 'node:http';

/**
 * Folders of ComfyUI's web root (§4.4) and of its static routes: the web UI's bundle, core and
 * custom-node extension files, template thumbnails, node docs, fonts. Static routes have no `/api`
 * twin, so an address under `/api` is an API call, except the template files that exist only there.
 */
const PAGE_FOLDERS = ['/assets/', '/extensions/', '/templates/', '/scripts/', '/docs/', '/fonts/'];
const API_TEMPLATE_FILES = '/api/workflow_templates/';

/**
 * Whether a request only fetches a file the web UI is made of. These cost ComfyUI a file read and a
 * page load needs hundreds of them, so they do not count toward requests per minute or hour.
 * Decided on the raw path, and only for plain spellings: anything percent-encoded counts, so no
 * spelling turns an API call into a free file. On every limited request, so it allocates nothing.
 */
export function isPageFile(req: IncomingMessage): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const url = req.url ?? '';
  const queryStart = url.indexOf('?');
  const end = queryStart === -1 ? url.length : queryStart;
  if (end === 1) return url.charCodeAt(0) === 47;
  if (inPath(url, '%', end) || inPath(url, '/.', end) || inPath(url, '//', end)) return false;
  const lastSlash = url.lastIndexOf('/', end - 1);
  // Names the folder, not a file in it.
  if (lastSlash === end - 1) return false;
  // A file right in the web root (`/materialdesignicons.min.css`, `/user.css`, `/favicon.ico`): ComfyUI's
  // own routes at the root have no dot.
  if (lastSlash === 0) return inPath(url, '.', end);
  if (url.startsWith('/api/')) return url.startsWith(API_TEMPLATE_FILES) && lastSlash >= API_TEMPLATE_FILES.length;
  for (let i = 0; i < PAGE_FOLDERS.length; i++) {
    if (url.startsWith(PAGE_FOLDERS[i]!)) return true;
  }
  return false;
}

/** Whether `needle` occurs before the query; the first occurrence decides, so nothing is sliced. */
function inPath(url: string, needle: string, end: number): boolean {
  const at = url.indexOf(needle);
  return at !== -1 && at < end;
}
