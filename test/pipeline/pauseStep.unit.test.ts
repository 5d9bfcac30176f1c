import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pauseStep } from '../../server/pipeline/pauseStep.js';
import { Exchange } from '../../server/pipeline/exchange.js';

function from(ip: string): Exchange {
  return new Exchange(new IncomingMessage(new Socket()), false, ip);
}

describe('pause guard', () => {
  const state = { paused: false };
  const guard = pauseStep(state);

  it.each([
    ['192.168.1.20', true],
    ['10.0.0.7', true],
    ['fe80::1', true],
    ['127.0.0.1', false],
    ['127.0.0.2', false],
    ['::1', false],
  ])('while paused, a request from %s is refused: %s', (ip, refused) => {
    state.paused = true;
    const refusal = guard(from(ip));
    expect(refusal?.status).toBe(refused ? 503 : undefined);
    if (refusal) expect(refusal.code).toBe('paused');
    state.paused = false;
    expect(guard(from(ip))).toBeUndefined();
  });
});
