import { escapeHtml, MARK, STYLE } from './loginPage.js';
import { safeNext } from './safeNext.js';
import { withoutTokenParam } from '../pipeline/credentials.js';
import type { GateError } from '../errors.js';
import { refusalAdvice } from './refusalAdvice.js';

/** Nothing on the page runs or loads: its own inline style only. */
export const REFUSAL_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const PAGE_STYLE = `${STYLE}
main{max-width:480px}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:.4rem}
.button{display:inline-grid;place-items:center;min-height:44px;padding:.6rem 1.1rem;border-radius:8px;font-weight:600;
text-decoration:none;color:var(--on-accent);background:var(--accent)}
.button:hover{background:var(--accent-hover)}
.button.secondary{color:var(--fg);background:var(--soft);border:1px solid var(--line)}
.button:focus-visible{outline:2px solid var(--fg);outline-offset:2px}
.card p.when{color:var(--fg);font-weight:500}`;

/** The limiters spell it `Retry-After`, the auth refusals `retry-after`. */
function retryAfterOf(error: GateError): number {
  const headers = error.headers ?? {};
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'retry-after') return Number(headers[name]);
  return NaN;
}

function waitText(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

/**
 * The page a browser gets instead of the JSON refusal when it navigated to a ComfyUI address: same
 * status, what happened and what to do in plain words, and links that stay on this gate.
 */
export function renderRefusalPage(error: GateError, requestUrl: string): string {
  const advice = refusalAdvice(error.code);
  const here = safeNext(withoutTokenParam(requestUrl));
  const retryAfter = retryAfterOf(error);
  const when =
    Number.isFinite(retryAfter) && retryAfter > 0
      ? `<p class="when">You can try again in ${waitText(Math.ceil(retryAfter))}.</p>`
      : '';
  const links: string[] = [];
  if (advice.retry) links.push(`<a class="button" href="${escapeHtml(here)}">Try again</a>`);
  if (advice.signIn) {
    const signIn = `/gate/login?next=${encodeURIComponent(here)}`;
    links.push(
      `<a class="button${links.length > 0 ? ' secondary' : ''}" href="${escapeHtml(signIn)}">Sign in again</a>`
    );
  }
  if (here !== '/') links.push('<a class="button secondary" href="/">ComfyUI start page</a>');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(advice.title)} · ComfyGate</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
<div class="brand"><span class="mark">${MARK}</span>ComfyGate</div>
<div class="card">
<h1>${escapeHtml(advice.title)}</h1>
<p class="error" role="alert">${escapeHtml(error.message)}</p>
<p>${escapeHtml(advice.todo)}</p>
${when}<div class="actions">${links.join('')}</div>
</div>
<small>Error ${error.status} · <code>${error.code}</code> · ComfyUI is shared through ComfyGate.</small>
</main>
</body>
</html>`;
}
