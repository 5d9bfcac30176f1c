import { arrayItems, memberText, objectMembers } from '../pipeline/jsonMembers.js';
import { ASK_WIDER } from '../pipeline/answerFilter.js';
import type { OwnWindow } from '../pipeline/findings.js';

/** ComfyUI keeps at most this many history entries: a window this wide is the whole history. */
const HISTORY_SIZE = 10_000;

/**
 * The window a `/history` query (with `max_items` or `offset`) or any `/jobs` query asks for; null
 * when there is none, or when ComfyUI refuses the values itself.
 */
export function ownWindowOf(kind: OwnWindow['kind'], url: string): OwnWindow | null {
  const at = url.indexOf('?');
  const query = new URLSearchParams(at === -1 ? '' : url.slice(at + 1));
  if (kind === 'history') {
    const maxItems = pyInt(query.get('max_items'));
    const offset = pyInt(query.get('offset'));
    if (maxItems === null || offset === null || (maxItems === undefined && offset === undefined)) return null;
    const from = offset !== undefined && offset >= 0 ? offset : undefined;
    // From an offset on, only the whole history says which of the caller's entries come first.
    const asked = from === undefined && maxItems !== undefined ? Math.max(64, maxItems * 4) : undefined;
    return { kind, maxItems, offset: from, asked: asked !== undefined && asked < HISTORY_SIZE ? asked : undefined };
  }
  const limit = pyInt(query.get('limit'));
  const offset = pyInt(query.get('offset'));
  // Even unpaged, `pagination.total` must count only the caller's jobs.
  if (limit === null || offset === null || (limit !== undefined && limit <= 0)) return null;
  return { kind, limit, offset: Math.max(0, offset ?? 0) };
}

/** The path ComfyUI is asked: the caller's query without its paging, plus the gate's own. */
export function windowPath(path: string, window: OwnWindow): string {
  const at = path.indexOf('?');
  if (at === -1) return path;
  const query = new URLSearchParams(path.slice(at + 1));
  for (const name of window.kind === 'history' ? ['max_items', 'offset'] : ['limit', 'offset']) query.delete(name);
  if (window.kind === 'history' && window.asked !== undefined) query.set('max_items', String(window.asked));
  const rest = query.toString();
  return path.slice(0, at) + (rest === '' ? '' : `?${rest}`);
}

/**
 * The caller's page of their own entries (`own`, already filtered from ComfyUI's answer `all`),
 * ASK_WIDER when ComfyUI must be asked for more history first, undefined for a shape not understood.
 */
export function ownPage(window: OwnWindow, all: string, own: string): string | typeof ASK_WIDER | undefined {
  return window.kind === 'history' ? historyPage(window, all, own) : jobsPage(window, own);
}

function historyPage(
  window: Extract<OwnWindow, { kind: 'history' }>,
  all: string,
  own: string
): string | typeof ASK_WIDER | undefined {
  const entries = objectMembers(own);
  if (!entries) return undefined;
  const { maxItems, offset, asked } = window;
  if (offset === undefined && maxItems !== undefined && entries.length < maxItems && asked !== undefined) {
    const seen = objectMembers(all)?.length ?? 0;
    if (seen >= asked) {
      const wider = asked * 4;
      window.asked = wider < HISTORY_SIZE ? wider : undefined;
      return ASK_WIDER;
    }
  }
  const start = offset ?? (maxItems === undefined ? 0 : Math.max(0, entries.length - maxItems));
  const page = entries.slice(start, maxItems === undefined ? undefined : start + maxItems);
  return `{${page.map((entry) => memberText(own, entry)).join(',')}}`;
}

/** The jobs API's answer paged over the caller's own jobs, its `pagination` counting only those. */
function jobsPage(window: Extract<OwnWindow, { kind: 'jobs' }>, own: string): string | undefined {
  const members = objectMembers(own);
  const list = members?.find((m) => m.key === 'jobs');
  const items = list ? arrayItems(own, list.valueStart, list.valueEnd) : undefined;
  if (!members || !items) return undefined;
  const { limit, offset } = window;
  const page = items.slice(offset, limit === undefined ? undefined : offset + limit);
  const pagination = {
    offset,
    limit: limit ?? null,
    total: items.length,
    has_more: offset + page.length < items.length,
  };
  const out = members.map((m) => {
    if (m.key === 'jobs') return `"jobs":[${page.map(([start, end]) => own.slice(start, end)).join(',')}]`;
    if (m.key === 'pagination') return `"pagination":${JSON.stringify(pagination)}`;
    return memberText(own, m);
  });
  return `{${out.join(',')}}`;
}

/** Python's int() of a query value: undefined when absent, null when ComfyUI would refuse it. */
function pyInt(value: string | null): number | undefined | null {
  if (value === null) return undefined;
  const text = value.trim();
  return /^[+-]?\d+(_\d+)*$/.test(text) ? Number(text.replace(/_/g, '')) : null;
}
