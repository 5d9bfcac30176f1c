/** The teammate's sign-in page: plain HTML, no script, works on a bare http://LAN-IP:port. */
export interface LoginPageOptions {
  next: string;
  error?: string;
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f5f6f8;--card:#fff;--fg:#1c1e21;--muted:#5f6670;--accent:#3b5bdb;--err:#c92a2a;--line:#d8dce1}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--card:#1f2226;--fg:#e9ecef;--muted:#a0a7b0;--accent:#748ffc;--err:#ff8787;--line:#343a40}}
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:1rem}
main{width:100%;max-width:420px;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:2rem}
h1{font-size:1.4rem;margin:0 0 .25rem}p{margin:.25rem 0 1.25rem;color:var(--muted)}
label{display:block;font-weight:600;margin-bottom:.4rem}
input[type=password]{width:100%;padding:.7rem .8rem;font:inherit;font-family:ui-monospace,monospace;border:1px solid var(--line);
border-radius:8px;background:transparent;color:inherit}
input[type=password]:focus{outline:2px solid var(--accent);outline-offset:1px}
button{margin-top:1rem;width:100%;padding:.75rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:8px;cursor:pointer}
button:focus-visible{outline:2px solid var(--fg);outline-offset:2px}
.error{color:var(--err);background:color-mix(in srgb,var(--err) 10%,transparent);border-radius:8px;padding:.6rem .8rem;margin:0 0 1rem}
small{display:block;margin-top:1rem;color:var(--muted)}`;

export function renderLoginPage({ next, error }: LoginPageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in · ComfyGate</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Sign in to ComfyUI</h1>
<p>This ComfyUI is shared through ComfyGate. Paste the API key you were given.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/gate/login">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" spellcheck="false" placeholder="cgk_…" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button>
</form>
<small>Keys start with <code>cgk_</code>. Ask the person who runs this machine for one.</small>
</main>
</body>
</html>`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
