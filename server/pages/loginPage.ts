import { SIGN_IN_REASONS, type SignInReason } from './signInReasons.js';

/** The teammate's sign-in page: plain HTML, no script, works on a bare http://LAN-IP:port. */
export interface LoginPageOptions {
  next: string;
  error?: string;
  /** Why the key or session in use stopped working: the page says so, and what to do. */
  reason?: SignInReason;
  /** Under HTTPS: the certificate's SHA-256 fingerprint, for a teammate to compare with what the operator gave. */
  fingerprint256?: string | null;
}

/** The dashboard's look for the gate's own plain pages (sign-in, refusals). */
export const STYLE = `
:root{color-scheme:light dark;--bg:#f5f6f8;--card:#fff;--fg:#171a1f;--muted:#5f6773;--accent:#4f46e5;--accent-hover:#4338ca;
--on-accent:#fff;--err:#c52b2b;--err-bg:#fdecec;--line:#cfd4db;--soft:#f0f2f5}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--card:#171a20;--fg:#e8eaee;--muted:#a0a8b4;--accent:#8b8ff8;
--accent-hover:#a3a6fa;--on-accent:#0f1115;--err:#f87171;--err-bg:#341719;--line:#3a404b;--soft:#1e222a}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:1.25rem;-webkit-font-smoothing:antialiased}
main{width:100%;max-width:420px}
.brand{display:flex;align-items:center;gap:.6rem;margin:0 0 1.25rem .25rem;font-weight:700;font-size:1.05rem}
.mark{display:grid;place-items:center;width:32px;height:32px;border-radius:9px;background:linear-gradient(135deg,#6366f1,#8b5cf6);color:#fff}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:2rem 1.75rem;
box-shadow:0 1px 2px rgb(16 24 40/5%),0 8px 24px rgb(16 24 40/6%)}
h1{font-size:1.35rem;margin:0 0 .35rem;letter-spacing:-.01em}
p{margin:0 0 1.4rem;color:var(--muted)}
label{display:block;font-weight:600;font-size:.9rem;margin-bottom:.4rem}
input[type=password]{width:100%;min-height:44px;padding:.65rem .8rem;font:inherit;font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.95rem;border:1px solid var(--line);border-radius:8px;background:var(--card);color:inherit}
input[type=password]:focus{outline:3px solid color-mix(in srgb,var(--accent) 30%,transparent);border-color:var(--accent)}
button{margin-top:1.1rem;width:100%;min-height:44px;padding:.7rem;font:inherit;font-weight:600;color:var(--on-accent);
background:var(--accent);border:0;border-radius:8px;cursor:pointer}
button:hover{background:var(--accent-hover)}
button:focus-visible{outline:2px solid var(--fg);outline-offset:2px}
.error{color:var(--err);background:var(--err-bg);border-radius:8px;padding:.65rem .85rem;margin:0 0 1.2rem;font-weight:500}
small{display:block;margin-top:1.25rem;color:var(--muted);font-size:.85rem;text-align:center}
.certificate{margin-top:1.25rem;font-size:.85rem;color:var(--muted)}.certificate summary{cursor:pointer}
.certificate p{margin:.5rem 0 0}.fingerprint{word-break:break-all}
code{font-family:ui-monospace,Menlo,Consolas,monospace;background:var(--soft);padding:.05rem .3rem;border-radius:4px}`;

export const MARK =
  '<svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" ' +
  'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 3 5 6v5c0 4.5 3 8.2 7 10 ' +
  '4-1.8 7-5.5 7-10V6zM9 12l2 2 4-4"/></svg>';

export function renderLoginPage({ next, error, reason, fingerprint256 }: LoginPageOptions): string {
  const dashboard = next.startsWith('/gate/');
  const heading = dashboard ? 'Sign in to ComfyGate' : 'Sign in to ComfyUI';
  const intro = dashboard
    ? 'Paste your key to open the dashboard.'
    : 'This ComfyUI is shared through ComfyGate. Paste the API key you were given.';
  return page(
    `<h1>${heading}</h1>
<p>${intro}</p>
${notice(error, reason)}
<form method="post" action="/gate/login">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" spellcheck="false" placeholder="cgk_…" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button>
</form>${fingerprint256 ? certificateNote(fingerprint256) : ''}`,
    'Keys start with <code>cgk_</code>. Ask the person who runs this machine for one.'
  );
}

/** The failed attempt's message and, when a key or session stopped working, why and what to do. */
function notice(error: string | undefined, reason: SignInReason | undefined): string {
  if (error === undefined && reason === undefined) return '';
  const advice = reason === undefined ? undefined : SIGN_IN_REASONS[reason];
  const lines = [error === undefined ? advice?.what : withStop(error), advice?.todo].filter(
    (line) => line !== undefined
  );
  return `<p class="error" role="alert">${lines.map((line) => escapeHtml(line)).join('<br>')}</p>`;
}

function withStop(sentence: string): string {
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** A self-signed certificate is only as good as this check: the browser shows the same fingerprint under the padlock. */
function certificateNote(fingerprint256: string): string {
  return `<details class="certificate"><summary>Check this connection</summary>
<p>The certificate’s SHA-256 fingerprint is <code class="fingerprint">${escapeHtml(fingerprint256)}</code>.
It must match the one the person who runs this machine gave you (their share card shows it).</p></details>`;
}

/**
 * What a locked-out address sees instead of the form (which could only fail meanwhile): when it may try again, as a
 * time (UTC: the page has no script to learn the visitor's zone) and as a wait.
 */
export function renderLockedOutPage(untilMs: number, nowMs: number): string {
  const until = new Date(untilMs).toISOString();
  return page(
    `<h1>Too many wrong keys</h1>
<p class="error" role="alert">Sign-in from your address is paused after too many wrong keys.
You may try again at <time datetime="${until}">${until.slice(11, 19)} UTC</time>, in ${formatWait(untilMs - nowMs)}.</p>
<p>Check that you paste the whole key, including <code>cgk_</code>.</p>`,
    'Need in sooner? Ask the person who runs this machine.'
  );
}

/** 840 s → "14 min 0 s"; under a minute only seconds. */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return minutes > 0 ? `${minutes} min ${rest} s` : `${rest} s`;
}

function page(card: string, footnote: string): string {
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on this form's POST,
  // which the gate's origin check must refuse.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Sign in · ComfyGate</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="brand"><span class="mark">${MARK}</span>ComfyGate</div>
<div class="card">
${card}
</div>
<small>${footnote}</small>
</main>
</body>
</html>`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
