import { request } from 'undici';

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

/** One request to the gate with exact headers (fetch would add or forbid some), body read as text/JSON. */
export async function call<T = unknown>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {}
): Promise<JsonResponse<T>> {
  const headers = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await request(url, {
    method: (init.method ?? (body !== undefined ? 'POST' : 'GET')) as 'GET',
    headers,
    body,
  });
  const text = await res.body.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed as T, text };
}

/** The session cookie pair (`name=value`) from a Set-Cookie answer. */
export function sessionCookieOf(res: JsonResponse): string {
  const setCookie = res.headers['set-cookie'];
  const line = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (!line) throw new Error('no Set-Cookie in the answer');
  return line.split(';')[0]!;
}
