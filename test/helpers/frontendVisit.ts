// What ComfyUI's frontends ask of the server on a new user's first visit (comfyui-protocol.md §14),
// replayed as a browser signed in to the gate would send it: session cookie, and Origin on writes.
import { call, sessionCookieOf, type JsonResponse } from './http.js';

export interface VisitStep {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** ComfyUI itself answers 404 here on a first visit (the file or folder does not exist yet). */
  absent?: true;
}

/** Frontend 1.27: its ~15 API calls on load, the settings it stores for a new user, opening sidebars, a first save. */
export const CURRENT_FRONTEND_FIRST_VISIT: readonly VisitStep[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/api/system_stats' },
  { method: 'GET', path: '/api/users' },
  { method: 'GET', path: '/api/i18n' },
  { method: 'GET', path: '/api/settings' },
  { method: 'GET', path: '/api/userdata?dir=workflows&recurse=true&split=false&full_info=true', absent: true },
  { method: 'GET', path: '/api/userdata?dir=subgraphs%2F&recurse=true&split=false&full_info=true', absent: true },
  { method: 'GET', path: '/api/extensions' },
  { method: 'GET', path: '/api/object_info' },
  { method: 'GET', path: '/api/queue' },
  { method: 'GET', path: '/api/history?max_items=64' },
  { method: 'GET', path: '/api/userdata/comfy.templates.json', absent: true },
  { method: 'GET', path: '/api/userdata/user.css', absent: true },
  { method: 'GET', path: '/api/experiment/models' },
  { method: 'POST', path: '/api/settings/Comfy.InstalledVersion', body: '"1.27.10"' },
  { method: 'POST', path: '/api/settings/Comfy.TutorialCompleted', body: 'true' },
  { method: 'GET', path: '/api/settings/Comfy.TutorialCompleted' },
  { method: 'GET', path: '/api/workflow_templates' },
  { method: 'GET', path: '/templates/index.json' },
  { method: 'POST', path: '/api/settings/Comfy.Sidebar.Location', body: '"right"' },
  {
    method: 'POST',
    path: '/api/userdata/comfy.templates.json?overwrite=true&stringify=false',
    body: '[{"name":"my group","data":"{}"}]',
  },
];

/** The older plain-JS frontend: a new user's local settings and node templates are migrated to the server. */
export const LEGACY_FRONTEND_FIRST_VISIT: readonly VisitStep[] = [
  { method: 'GET', path: '/api/users' },
  { method: 'POST', path: '/api/settings', body: '{"Comfy.LinkRenderMode":2,"Comfy.ConfirmClear":false}' },
  { method: 'GET', path: '/api/settings' },
  { method: 'GET', path: '/api/extensions' },
  { method: 'GET', path: '/api/embeddings' },
  { method: 'GET', path: '/api/object_info' },
  { method: 'POST', path: '/api/userdata/comfy.templates.json?overwrite=true', body: '[]' },
  { method: 'GET', path: '/api/userdata/comfy.templates.json' },
  { method: 'GET', path: '/api/queue' },
  { method: 'GET', path: '/api/history?max_items=200' },
];

export interface VisitAnswer {
  step: VisitStep;
  res: JsonResponse;
}

/** Signs in with `key` on the gate's login page, as a browser does. */
export async function signIn(gateUrl: string, key: string): Promise<string> {
  return sessionCookieOf(await call(`${gateUrl}/gate/login`, { json: { key } }));
}

/** Sends every step in order, as the browser would, and answers what came back for each. */
export async function replayVisit(
  gateUrl: string,
  cookie: string,
  steps: readonly VisitStep[]
): Promise<VisitAnswer[]> {
  const answers: VisitAnswer[] = [];
  for (const step of steps) {
    const headers: Record<string, string> = { cookie, accept: step.path === '/' ? 'text/html' : '*/*' };
    if (step.method === 'POST') {
      headers['origin'] = gateUrl;
      headers['sec-fetch-site'] = 'same-origin';
      headers['content-type'] = 'text/plain;charset=UTF-8';
    }
    const res = await call(`${gateUrl}${step.path}`, {
      method: step.method,
      headers,
      body: step.method === 'POST' ? (step.body ?? '') : undefined,
    });
    answers.push({ step, res });
  }
  return answers;
}

/** The answers that are not what ComfyUI gives a new user: any error, except a first visit's missing files. */
export function unexpectedAnswers(answers: readonly VisitAnswer[]): string[] {
  return answers
    .filter(({ step, res }) => res.status >= 400 && !(step.absent && res.status === 404 && !isGateError(res)))
    .map(({ step, res }) => `${step.method} ${step.path} → ${res.status} ${res.text.slice(0, 200)}`);
}

function isGateError(res: JsonResponse): boolean {
  const body = res.body as { error?: { code?: unknown } } | undefined;
  return typeof body?.error?.code === 'string';
}
