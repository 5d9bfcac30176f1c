import { GateError } from '../errors.js';
import type { RequestStep } from './steps.js';

export interface PauseState {
  paused: boolean;
}

export function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.');
}

/** While sharing is paused, only this machine gets through; a 503 tells everyone else why. */
export function pauseStep(pause: PauseState): RequestStep {
  return (exchange) =>
    pause.paused && !isLoopbackAddress(exchange.clientIp)
      ? new GateError('paused', 'The operator has paused sharing of this ComfyUI; try again later')
      : undefined;
}
