import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  KEY_LENGTH,
  KEY_PREFIX,
  generateKey,
  hasValidKeyFormat,
  hashKey,
  keyHint,
  newKeyId,
} from '../../server/keys/keyFormat.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function decodeBase62(text: string): number {
  let value = 0;
  for (const char of text) value = value * 62 + ALPHABET.indexOf(char);
  return value;
}

describe('generateKey', () => {
  it('makes 1 000 distinct keys that all pass the format check', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const key = generateKey();
      expect(key).toMatch(/^cgk_[0-9A-Za-z]{49}$/);
      expect(key).toHaveLength(KEY_LENGTH);
      expect(hasValidKeyFormat(key)).toBe(true);
      keys.add(key);
    }
    expect(keys.size).toBe(1000);
  });

  it('ends with the base62 CRC32 of everything before it', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateKey();
      expect(decodeBase62(key.slice(-6))).toBe(crc32(key.slice(0, -6)));
    }
  });
});

describe('hasValidKeyFormat', () => {
  it('rejects every single-character typo', () => {
    for (let round = 0; round < 3; round++) {
      const key = generateKey();
      for (let position = 0; position < key.length; position++) {
        for (const char of ALPHABET + '_-') {
          if (char === key[position]) continue;
          const typo = key.slice(0, position) + char + key.slice(position + 1);
          if (hasValidKeyFormat(typo)) throw new Error(`typo accepted at ${position}: ${typo}`);
        }
      }
    }
  });

  it('rejects swapped neighbours', () => {
    const key = generateKey();
    for (let i = KEY_PREFIX.length; i < key.length - 1; i++) {
      if (key[i] === key[i + 1]) continue;
      const swapped = key.slice(0, i) + key.charAt(i + 1) + key.charAt(i) + key.slice(i + 2);
      expect(hasValidKeyFormat(swapped)).toBe(false);
    }
  });

  it('rejects a wrong prefix, a wrong length and foreign characters', () => {
    const key = generateKey();
    expect(hasValidKeyFormat('cgx_' + key.slice(4))).toBe(false);
    expect(hasValidKeyFormat('CGK_' + key.slice(4))).toBe(false);
    expect(hasValidKeyFormat(key.slice(0, -1))).toBe(false);
    expect(hasValidKeyFormat(key + 'A')).toBe(false);
    expect(hasValidKeyFormat(' ' + key.slice(0, -1))).toBe(false);
    expect(hasValidKeyFormat(key.slice(0, 10) + 'é' + key.slice(11))).toBe(false);
    expect(hasValidKeyFormat(key.slice(0, 10) + '\u0130' + key.slice(11))).toBe(false);
    expect(hasValidKeyFormat('')).toBe(false);
    expect(hasValidKeyFormat('cgk_')).toBe(false);
  });

  it('rejects a checksum that only matches modulo 2^32', () => {
    const key = generateKey();
    const crc = decodeBase62(key.slice(-6));
    let value = crc + 2 ** 32;
    let suffix = '';
    for (let i = 0; i < 6; i++) {
      suffix = ALPHABET.charAt(value % 62) + suffix;
      value = Math.floor(value / 62);
    }
    expect(hasValidKeyFormat(key.slice(0, -6) + suffix)).toBe(false);
  });
});

describe('hashKey, keyHint, newKeyId', () => {
  it('hashes to hex SHA-256, never the key itself', () => {
    const key = generateKey();
    const hash = hashKey(key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toBe(key);
    expect(hash).not.toContain(key.slice(4));
    expect(hashKey(key)).toBe(hash);
    expect(hashKey(generateKey())).not.toBe(hash);
  });

  it('hints with four characters from each end', () => {
    const key = generateKey();
    expect(keyHint(key)).toBe(`cgk_${key.slice(4, 8)}…${key.slice(-4)}`);
  });

  it('makes short, URL-safe, distinct ids', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const id = newKeyId();
      expect(id).toMatch(/^key_[0-9A-Za-z]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(500);
  });
});
