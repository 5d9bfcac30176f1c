import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GateError, GateInputError, errorBodyOf, isLimitCode } from '../server/errors.js';

describe('error codes', () => {
  it('the limit codes (the ones metrics count) are exactly the 429 refusals', () => {
    expect(ERROR_CODES.filter(isLimitCode)).toEqual([
      'rate_limit_minute',
      'rate_limit_hour',
      'rate_limit_prompts_day',
      'queue_limit',
      'gpu_quota',
      'websocket_limit',
      'locked_out',
    ]);
  });

  it('an error body keeps code and message, and adds the request id and field problems only when there are some', () => {
    expect(JSON.parse(errorBodyOf(new GateError('not_found', 'No such thing')))).toEqual({
      error: { code: 'not_found', message: 'No such thing' },
    });
    const input = new GateInputError('Invalid request: name: expected a name', { name: 'expected a name' });
    expect(input.status).toBe(400);
    expect(JSON.parse(errorBodyOf(input, 'abc-1'))).toEqual({
      error: {
        code: 'bad_request',
        message: 'Invalid request: name: expected a name',
        requestId: 'abc-1',
        fields: { name: 'expected a name' },
      },
    });
  });
});
