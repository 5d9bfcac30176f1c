/** What a teammate needs to start: the same lines the README shows, filled in with this gate and their key. */
export interface ShareLines {
  gateUrl: string;
  loginUrl: string;
  curl: string;
  python: string;
  fetch: string;
}

export function shareLines(origin: string, key: string): ShareLines {
  const api = `${origin}/api/queue`;
  return {
    gateUrl: `${origin}/`,
    loginUrl: `${origin}/gate/login`,
    curl: `curl -H "X-API-Key: ${key}" ${api}`,
    python: `requests.get("${api}", headers={"X-API-Key": "${key}"}).json()`,
    fetch: `await fetch("${api}", { headers: { "X-API-Key": "${key}" } }).then((r) => r.json())`,
  };
}

/** One text to paste into a chat message. */
export function shareText(name: string, lines: ShareLines, key: string, fingerprint?: string): string {
  const certificate = fingerprint
    ? [
        'The connection uses HTTPS with a certificate your browser does not know yet. Before you sign in, check',
        `that its SHA-256 fingerprint (under the padlock) is ${fingerprint}`,
        '',
      ]
    : [];
  return [
    `ComfyUI access for ${name}`,
    '',
    `Open ${lines.gateUrl} and sign in with this key:`,
    key,
    '',
    ...certificate,
    'From scripts, send the key in the X-API-Key header:',
    lines.curl,
  ].join('\n');
}

/** The help page's examples: the share card's lines, plus the other ways a script can send a key. */
export interface ScriptLines extends ShareLines {
  /** A prompt sent with `Authorization: Bearer`. */
  bearer: string;
  /** A WebSocket URL with `?token=`, for clients that cannot send headers. */
  websocket: string;
  /** An image tag with `?token=`. */
  image: string;
}

export function scriptLines(origin: string, key: string): ScriptLines {
  const ws = origin.replace(/^http/, 'ws');
  return {
    ...shareLines(origin, key),
    bearer: [
      '# prompt.json holds {"prompt": …}: a workflow exported in API format',
      `curl -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' \\`,
      `     -d @prompt.json ${origin}/api/prompt`,
    ].join('\n'),
    websocket: `${ws}/ws?clientId=me&token=${key}`,
    image: `<img src="${origin}/api/view?filename=ComfyUI_00001_.png&type=output&token=${key}">`,
  };
}
