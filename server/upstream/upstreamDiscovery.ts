import { probeComfyUI } from './upstream.js';

/** ComfyUI's own default port first, then ComfyUI Desktop's. */
export const UPSTREAM_CANDIDATES = ['http://127.0.0.1:8188', 'http://127.0.0.1:8000'] as const;

export interface Discovery {
  url: string;
  /** False when no candidate answered and the first one is used until ComfyUI starts. */
  found: boolean;
}

export async function discoverUpstream(
  candidates: readonly string[] = UPSTREAM_CANDIDATES,
  probe: (url: string) => Promise<boolean> = probeComfyUI
): Promise<Discovery> {
  for (const url of candidates) {
    if (await probe(url)) return { url, found: true };
  }
  return { url: candidates[0] ?? UPSTREAM_CANDIDATES[0], found: false };
}
