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
 * spelling turns an API call into a free file. On every limited request, so it allocates nothing
 * but the path when there is a query.
 */
export function isPageFile(req: IncomingMessage): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const url = req.url ?? '';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  if (path === '/') return true;
  if (path.includes('%') || path.includes('/.') || path.includes('//')) return false;
  const lastSlash = path.lastIndexOf('/');
  // A file right in the web root (`/materialdesignicons.min.css`, `/user.css`, `/favicon.ico`): ComfyUI's
  // own routes at the root have no dot.
  if (lastSlash === 0) return path.includes('.', 1);
  if (path.startsWith(API_TEMPLATE_FILES)) return lastSlash > API_TEMPLATE_FILES.length - 1;
  for (let i = 0; i < PAGE_FOLDERS.length; i++) {
    if (path.startsWith(PAGE_FOLDERS[i]!)) return lastSlash < path.length - 1;
  }
  return false;
}
