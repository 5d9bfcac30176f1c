import type { MessageBoxOptions } from 'electron';
import { isLoopbackHost, lanAddresses, type Interfaces } from '../../server/contract/desktop.js';

/**
 * Where to look for ComfyUI answering around the gate: when the gate reaches ComfyUI on this
 * computer, the same port on each of this computer's LAN addresses. A ComfyUI started with
 * `--listen` (0.0.0.0) answers there, and every teammate could use it without a key.
 */
export function bypassProbeUrls(upstreamUrl: string, interfaces: Interfaces): string[] {
  let upstream: URL;
  try {
    upstream = new URL(upstreamUrl);
  } catch {
    return [];
  }
  if (!isLoopbackHost(upstream.hostname)) return [];
  const port = upstream.port || (upstream.protocol === 'https:' ? '443' : '80');
  return lanAddresses(interfaces).map((address) => `${upstream.protocol}//${address}:${port}`);
}

/** The first of `urls` where ComfyUI answers, or null. Probes run at once. */
export async function findBypass(urls: string[], probe: (url: string) => Promise<boolean>): Promise<string | null> {
  const answers = await Promise.all(urls.map((url) => probe(url)));
  return urls.find((_, i) => answers[i]) ?? null;
}

/** What the operator is told, and how to fix it. */
export function bypassAdvice(bypassUrl: string): MessageBoxOptions {
  const port = new URL(bypassUrl).port;
  return {
    type: 'warning',
    title: 'ComfyUI is reachable without the gate',
    message: 'Teammates could go around ComfyGate',
    detail: [
      `ComfyUI itself answers at ${bypassUrl}, so anyone on your network can use it directly: no key, no limits, no log.`,
      '',
      'Restart ComfyUI so it listens only on this computer: start it without --listen, or with',
      '',
      '    --listen 127.0.0.1',
      '',
      `In ComfyUI Desktop, set the listen address in its server settings to 127.0.0.1. Or block port ${port} in this computer's firewall. The gate keeps working either way.`,
    ].join('\n'),
    buttons: ['OK'],
  };
}
