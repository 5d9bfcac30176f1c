import { BrowserWindow } from 'electron';
import { startupSettingsSchema } from '../../server/contract/desktop.js';

/**
 * "Where is ComfyUI?" — a small window asked on first run when nothing answers on 8188 or 8000.
 * The page has no script at all: its form submits to an address that never loads, and the main
 * process reads the answer from that navigation and cancels it.
 */
export const PROMPT_ACTION_URL = 'https://comfygate.invalid/first-run/upstream';

export type PromptAction = 'use' | 'force' | 'retry' | 'skip';

export interface PromptSubmission {
  action: PromptAction;
  url: string;
}

export interface PromptView {
  value: string;
  error: string | null;
  /** After a failed probe: offer to use the address anyway (ComfyUI may simply not be running yet). */
  offerForce: boolean;
}

export type PromptStep = { done: true; upstream: string | undefined } | { done: false; view: PromptView };

export interface PromptDeps {
  probe(url: string): Promise<boolean>;
  discover(): Promise<{ url: string; found: boolean }>;
}

export const INITIAL_VIEW: PromptView = { value: '', error: null, offerForce: false };

/** `127.0.0.1:8188`, `localhost:8000/` or a full URL → the origin the gate uses, or why not. */
export function normalizeUpstreamInput(input: string): { ok: true; url: string } | { ok: false; message: string } {
  const text = input.trim();
  if (text === '') return { ok: false, message: 'Enter the address ComfyUI runs at, such as http://127.0.0.1:8188' };
  const parsed = startupSettingsSchema.shape.upstream.safeParse(
    /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`
  );
  return parsed.success
    ? { ok: true, url: parsed.data }
    : { ok: false, message: parsed.error.issues[0]?.message ?? 'Not a valid address' };
}

/** The answer carried by a navigation, or null for any other URL. */
export function readPromptSubmission(navigationUrl: string): PromptSubmission | null {
  if (!navigationUrl.startsWith(`${PROMPT_ACTION_URL}?`)) return null;
  const query = new URL(navigationUrl).searchParams;
  const action = query.get('action');
  const known: readonly string[] = ['use', 'force', 'retry', 'skip'];
  return {
    action: action !== null && known.includes(action) ? (action as PromptAction) : 'use',
    url: query.get('url') ?? '',
  };
}

/** What the window does with one answer: finish with an upstream (or none), or show the form again. */
export async function handlePromptSubmission(submission: PromptSubmission, deps: PromptDeps): Promise<PromptStep> {
  if (submission.action === 'skip') return { done: true, upstream: undefined };
  if (submission.action === 'retry') {
    const discovery = await deps.discover();
    if (discovery.found) return { done: true, upstream: discovery.url };
    return {
      done: false,
      view: {
        value: submission.url,
        error: 'Still nothing at 127.0.0.1:8188 or 127.0.0.1:8000.',
        offerForce: false,
      },
    };
  }
  const normalized = normalizeUpstreamInput(submission.url);
  if (!normalized.ok)
    return { done: false, view: { value: submission.url, error: normalized.message, offerForce: false } };
  if (submission.action === 'force' || (await deps.probe(normalized.url)))
    return { done: true, upstream: normalized.url };
  return {
    done: false,
    view: {
      value: normalized.url,
      error: `No ComfyUI answered at ${normalized.url}/system_stats. Is it running?`,
      offerForce: true,
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function upstreamPromptHtml(view: PromptView): string {
  const error = view.error === null ? '' : `<p class="error" role="alert">${escapeHtml(view.error)}</p>`;
  const force = view.offerForce ? '<button name="action" value="force">Use it anyway</button>' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action ${PROMPT_ACTION_URL}">
<title>Where is ComfyUI?</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 20px 24px; color: #1f2937; background: #f9fafb; }
  h1 { font-size: 17px; margin: 0 0 8px; }
  input { width: 100%; box-sizing: border-box; font: inherit; padding: 6px 8px; margin: 4px 0 10px; }
  .error { color: #b91c1c; }
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; }
  @media (prefers-color-scheme: dark) { body { color: #e5e7eb; background: #111827; } .error { color: #f87171; } }
</style>
</head>
<body>
<form action="${PROMPT_ACTION_URL}" method="get">
  <h1>Where is ComfyUI?</h1>
  <p>ComfyGate found no ComfyUI at 127.0.0.1:8188 (ComfyUI) or 127.0.0.1:8000 (ComfyUI Desktop).
     Start ComfyUI and look again, or enter the address it runs at.</p>
  <label for="url">ComfyUI address</label>
  <input id="url" name="url" value="${escapeHtml(view.value)}" placeholder="http://127.0.0.1:8188" autofocus>
  ${error}
  <div class="buttons">
    <button name="action" value="use">Use this address</button>
    ${force}
    <button name="action" value="retry">Look again</button>
    <button name="action" value="skip">Skip</button>
  </div>
</form>
</body>
</html>`;
}

function pageUrl(view: PromptView): string {
  return `data:text/html;charset=utf-8,${encodeURIComponent(upstreamPromptHtml(view))}`;
}

/** Shows the window; resolves with the chosen upstream, or undefined when skipped or closed. */
export function askForUpstream(deps: PromptDeps & { icon?: string }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const window = new BrowserWindow({
      width: 520,
      height: 360,
      title: 'Where is ComfyUI? · ComfyGate',
      resizable: false,
      minimizable: false,
      maximizable: false,
      autoHideMenuBar: true,
      ...(deps.icon === undefined ? {} : { icon: deps.icon }),
      webPreferences: {
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        javascript: false,
        partition: 'comfygate-first-run',
      },
    });
    let settled = false;
    const finish = (upstream: string | undefined): void => {
      if (settled) return;
      settled = true;
      resolve(upstream);
      if (!window.isDestroyed()) window.close();
    };
    window.on('closed', () => finish(undefined));
    window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    window.webContents.on('will-navigate', (details) => {
      details.preventDefault();
      const submission = readPromptSubmission(details.url);
      if (submission === null) return;
      handlePromptSubmission(submission, deps).then(
        (step) => (step.done ? finish(step.upstream) : void window.loadURL(pageUrl(step.view))),
        () => finish(undefined)
      );
    });
    void window.loadURL(pageUrl(INITIAL_VIEW));
  });
}
