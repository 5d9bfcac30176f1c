import { isIP } from 'node:net';

/** True for the names and addresses that can only mean this machine. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === '[::1]') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** A gate bound to a loopback address: then only loopback Host names are genuine (DNS rebinding). */
export function isLoopbackBind(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
