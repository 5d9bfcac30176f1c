import { hash, randomBytes } from 'node:crypto';

/**
 * Keys look like GitHub tokens: a fixed prefix secret scanners can search for, 32 random bytes in base62, and a CRC32
 * of all that, so a mistyped key is refused before any lookup.
 */
export const KEY_PREFIX = 'cgk_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_BYTES = 32;
/** 62^43 > 2^256, so 43 digits hold any 32 bytes. */
const SECRET_DIGITS = 43;
/** 62^6 > 2^32, so 6 digits hold any CRC32. */
const CHECKSUM_DIGITS = 6;
const BODY_LENGTH = KEY_PREFIX.length + SECRET_DIGITS;
export const KEY_LENGTH = BODY_LENGTH + CHECKSUM_DIGITS;

/** Base62 digit value of each ASCII code, -1 outside the alphabet. */
const DIGIT_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT_VALUE[ALPHABET.charCodeAt(i)] = i;

/** Int32, not Uint32: entries above 2^31 would be boxed doubles and make the loop below three times slower. */
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}

export function generateKey(): string {
  const body = KEY_PREFIX + encodeBase62(randomBytes(SECRET_BYTES), SECRET_DIGITS);
  return body + encodeNumber(crc32Ascii(body), CHECKSUM_DIGITS);
}

/** Prefix, length, alphabet and checksum; no lookup. Allocation-free: it runs before every key lookup. */
export function hasValidKeyFormat(key: string): boolean {
  if (key.length !== KEY_LENGTH) return false;
  let crc = -1;
  for (let i = 0; i < BODY_LENGTH; i++) {
    const code = key.charCodeAt(i);
    // Char codes, not startsWith(): the latter costs as much as the whole checksum.
    if (i < KEY_PREFIX.length ? code !== KEY_PREFIX.charCodeAt(i) : digitOf(code) < 0) return false;
    crc = crcStep(crc, code);
  }
  let checksum = 0;
  for (let i = BODY_LENGTH; i < KEY_LENGTH; i++) {
    const digit = digitOf(key.charCodeAt(i));
    if (digit < 0) return false;
    // At most 62^6 ≈ 5.7e10: exact in a double, no BigInt needed.
    checksum = checksum * 62 + digit;
  }
  return checksum === ~crc >>> 0;
}

/** One-shot crypto.hash: a third of createHash's cost, and this runs on every request. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Enough to tell keys apart in a list, far too little to guess one. */
export function keyHint(key: string): string {
  return `${KEY_PREFIX}${key.slice(KEY_PREFIX.length, KEY_PREFIX.length + 4)}…${key.slice(-4)}`;
}

export function newKeyId(): string {
  return 'key_' + randomBase62(12);
}

function digitOf(code: number): number {
  return code < 128 ? (DIGIT_VALUE[code] ?? -1) : -1;
}

function crcStep(crc: number, byte: number): number {
  return (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
}

/** CRC32 of an ASCII string, so each char is its own byte. */
function crc32Ascii(text: string): number {
  let crc = -1;
  for (let i = 0; i < text.length; i++) crc = crcStep(crc, text.charCodeAt(i));
  return ~crc >>> 0;
}

/** Fixed-width base62 of a big-endian byte string; BigInt is fine here, this runs once per new key. */
function encodeBase62(bytes: Uint8Array, width: number): string {
  let value = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET.charAt(Number(value % 62n)) + out;
    value /= 62n;
  }
  return out;
}

function encodeNumber(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET.charAt(value % 62) + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62 characters: bytes ≥ 248 (= 4 × 62) are skipped, so `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET.charAt(byte % 62);
    }
  }
  return out;
}
