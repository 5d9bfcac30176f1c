// A teammate opening ComfyUI through the gate: the current frontend's first load (comfyui-protocol.md §14), about
// 470 static files and 15 API calls over a browser's six connections, timed whole, directly and through the gate.
import { performance } from 'node:perf_hooks';
import { Pool, request } from 'undici';
import { FIRST_LOAD_API_CALLS } from '../test/helpers/frontendCalls.js';

/**
 * The static files of a first load, shaped like frontend 1.27's: one large entry chunk, hundreds of small ES
 * modules under assets/lib, core extensions, stylesheets, fonts and images. Sizes are fixed (not random), so every
 * run fetches the same bytes; about 9 MB in all.
 */
export function frontendFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const add = (path: string, bytes: number): void => {
    files[path] = Buffer.alloc(bytes, path.endsWith('.js') ? '/* module */\n' : 'x');
  };
  add('index.html', 2_000);
  add('assets/index-entry.js', 2_600_000);
  add('assets/index-entry.css', 180_000);
  add('materialdesignicons.min.css', 300_000);
  for (let i = 0; i < 320; i++) add(`assets/lib/module-${i}.js`, 2_000 + ((i * 7_919) % 28_000));
  for (let i = 0; i < 60; i++) add(`extensions/core/extension-${i}.js`, 1_000 + ((i * 3_571) % 12_000));
  for (let i = 0; i < 25; i++) add(`assets/style-${i}.css`, 500 + ((i * 1_237) % 6_000));
  for (let i = 0; i < 12; i++) add(`assets/fonts/font-${i}.woff2`, 40_000 + i * 5_000);
  for (let i = 0; i < 50; i++) add(`assets/images/image-${i}.png`, 300 + ((i * 613) % 4_000));
  return files;
}

/** The first load's API calls, and two the frontend makes soon after. */
const API_CALLS = [...FIRST_LOAD_API_CALLS, '/api/settings/Comfy.InstalledVersion', '/api/embeddings'];

/** Every path of one page load: the page, then (as a browser does once it parsed it) everything else. */
export function pageLoadPaths(files: Record<string, Buffer>): { page: string; rest: string[] } {
  const statics = Object.keys(files)
    .filter((path) => path !== 'index.html')
    .map((path) => `/${path}`);
  return { page: '/', rest: [...statics, '/user.css', ...API_CALLS] };
}

/** A browser's limit of parallel HTTP/1.1 connections per origin. */
export const BROWSER_CONNECTIONS = 6;

export interface PageLoad {
  ms: number;
  requests: number;
  bytes: number;
  /** path → status, to compare a load through the gate with the direct one. */
  statuses: Map<string, number>;
}

/** One page load on fresh connections (a first visit), the page first, then the rest six at a time. */
export async function loadPage(
  origin: string,
  headers: Record<string, string>,
  paths: ReturnType<typeof pageLoadPaths>
): Promise<PageLoad> {
  const pool = new Pool(origin, { connections: BROWSER_CONNECTIONS, pipelining: 1 });
  const statuses = new Map<string, number>();
  let bytes = 0;
  const fetchOne = async (path: string): Promise<void> => {
    const res = await pool.request({ path, method: 'GET', headers });
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    statuses.set(path, res.statusCode);
  };
  const start = performance.now();
  try {
    await fetchOne(paths.page);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.rest.length) await fetchOne(paths.rest[next++]!);
    };
    await Promise.all(Array.from({ length: BROWSER_CONNECTIONS }, worker));
  } finally {
    await pool.close();
  }
  return { ms: performance.now() - start, requests: paths.rest.length + 1, bytes, statuses };
}

/** The session cookie a teammate's browser holds after signing in with their key at /gate/login. */
export async function signIn(gateUrl: string, key: string): Promise<Record<string, string>> {
  const res = await request(`${gateUrl}/gate/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  await res.body.dump();
  const setCookie = res.headers['set-cookie'];
  const line = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (res.statusCode >= 400 || !line) throw new Error(`signing in at ${gateUrl}/gate/login answered ${res.statusCode}`);
  return { cookie: line.split(';')[0] ?? '' };
}

/** Paths whose status through the gate differs from the direct load's. */
export function statusMismatches(direct: PageLoad, viaGate: PageLoad): string[] {
  const out: string[] = [];
  for (const [path, status] of direct.statuses) {
    const gateStatus = viaGate.statuses.get(path);
    if (gateStatus !== status) out.push(`${path}: ${status} direct, ${gateStatus ?? 'none'} via gate`);
  }
  return out;
}
