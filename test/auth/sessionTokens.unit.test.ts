import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { looksLikeJwt, SessionTokens } from '../../server/auth/sessionTokens.js';
import { memorySignOuts } from '../helpers/signOuts.js';

afterEach(() => vi.restoreAllMocks());

describe('SessionTokens.verify', () => {
  it('checks a token’s signature once, and its expiry and sign-out on every request', async () => {
    const tokens = new SessionTokens(randomBytes(32), memorySignOuts());
    const { token, claims } = tokens.sign('session', 'key_a', 'v1', 60);
    const verifySignature = vi.spyOn(jwt, 'verify');

    for (let i = 0; i < 5; i++) expect(tokens.verify(token)).toEqual(claims);
    expect(verifySignature).toHaveBeenCalledTimes(1);

    await tokens.revoke(claims);
    expect(tokens.verify(token)).toBeUndefined();
    expect(verifySignature).toHaveBeenCalledTimes(1);
  });

  it('refuses a cached token once it expired', () => {
    const tokens = new SessionTokens(randomBytes(32), memorySignOuts());
    const { token, claims } = tokens.sign('session', 'key_a', 'v1', 60);
    expect(tokens.verify(token)).toEqual(claims);
    expect(tokens.verify(token, claims.exp * 1000 - 1)).toEqual(claims);
    expect(tokens.verify(token, claims.exp * 1000)).toBeUndefined();
  });

  it('keeps the tokens used most recently when the cache is full', () => {
    const tokens = new SessionTokens(randomBytes(32), memorySignOuts(), 2);
    const [a, b, c] = ['key_a', 'key_b', 'key_c'].map((keyId) => tokens.sign('session', keyId, 'v1', 60).token);
    const verifySignature = vi.spyOn(jwt, 'verify');

    tokens.verify(a!);
    tokens.verify(b!);
    tokens.verify(a!); // a is now the most recent: c pushes b out
    tokens.verify(c!);
    expect(verifySignature).toHaveBeenCalledTimes(3);
    tokens.verify(a!);
    tokens.verify(c!);
    expect(verifySignature).toHaveBeenCalledTimes(3);
    tokens.verify(b!);
    expect(verifySignature).toHaveBeenCalledTimes(4);
  });

  it('refuses a token signed with another secret or changed', () => {
    const tokens = new SessionTokens(randomBytes(32), memorySignOuts());
    const other = new SessionTokens(randomBytes(32), memorySignOuts()).sign('session', 'key_a', 'v1', 60).token;
    const own = tokens.sign('session', 'key_a', 'v1', 60).token;
    expect(tokens.verify(other)).toBeUndefined();
    expect(tokens.verify(`${own.slice(0, -2)}xx`)).toBeUndefined();
  });
});

describe('looksLikeJwt', () => {
  it.each([
    ['eyJa.b.c', true],
    ['eyJ..', true],
    ['eyJa.b', false],
    ['eyJa.b.c.d', false],
    ['eyJabc', false],
    ['xeyJa.b.c', false],
    ['cgk_a.b.c', false],
  ])('%s → %s', (value, expected) => {
    expect(looksLikeJwt(value)).toBe(expected);
  });
});
