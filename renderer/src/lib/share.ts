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
export function shareText(name: string, lines: ShareLines, key: string): string {
  return [
    `ComfyUI access for ${name}`,
    '',
    `Open ${lines.gateUrl} and sign in with this key:`,
    key,
    '',
    'From scripts, send the key in the X-API-Key header:',
    lines.curl,
  ].join('\n');
}
