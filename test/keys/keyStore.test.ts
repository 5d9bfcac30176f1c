import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GateError } from '../../server/errors.js';
import { generateKey, hashKey } from '../../server/keys/keyFormat.js';
import { parseExpiry, type PublicKeyRecord } from '../../server/keys/keySchema.js';
import { KeyNotFoundError, KeyStore } from '../../server/keys/keyStore.js';

const posix = process.platform !== 'win32';
let dataDir: string;
let stores: KeyStore[];

beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'comfygate-keys-')), 'data');
  stores = [];
});

afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await rm(join(dataDir, '..'), { recursive: true, force: true });
});

async function openStore(): Promise<KeyStore> {
  const store = await KeyStore.open(dataDir);
  stores.push(store);
  return store;
}

async function keysFileText(): Promise<string> {
  return readFile(join(dataDir, 'keys.json'), 'utf8');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function collectRevocations(store: KeyStore): string[][] {
  const seen: string[][] = [];
  store.events.on('changed', (revoked) => {
    if (revoked.size > 0) seen.push([...revoked]);
  });
  return seen;
}

describe('KeyStore basics', () => {
  it('creates a key that verifies, stores only its hash, and keeps files private', async () => {
    const store = await openStore();
    const { key, record } = await store.create({ name: '  Alice  ', limits: { perMinute: 60 } });
    expect(record).toMatchObject({
      name: 'Alice',
      role: 'creator',
      note: '',
      scopes: null,
      active: true,
      expiresAt: null,
      lastUsedAt: null,
      rotatedAt: null,
      limits: { perMinute: 60, perHour: null, promptsPerDay: null, maxQueued: null },
      hint: `cgk_${key.slice(4, 8)}…${key.slice(-4)}`,
    });
    expect(record).not.toHaveProperty('hash');
    expect(record.id).toMatch(/^key_/);

    const verified = store.verify(key);
    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.record.id).toBe(record.id);

    const text = await keysFileText();
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(4, 47));
    expect(text).toContain(hashKey(key));
    if (posix) {
      expect((await stat(join(dataDir, 'keys.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    }

    expect(store.list()).toEqual([record]);
    expect(store.get(record.id)).toEqual(record);
    expect(store.get('key_nope')).toBeUndefined();
    expect(store.require(record.id)).toEqual(record);
  });

  it('tells malformed, unknown, inactive and expired keys apart', async () => {
    const store = await openStore();
    const { key, record } = await store.create({
      name: 'bob',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const typo = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    expect(store.verify(typo)).toEqual({ ok: false, reason: 'malformed' });
    expect(store.verify('')).toEqual({ ok: false, reason: 'malformed' });
    expect(store.verify(generateKey())).toEqual({ ok: false, reason: 'unknown' });
    expect(store.verify(key, Date.now() + 2 * 3600_000)).toEqual({ ok: false, reason: 'expired', keyId: record.id });

    expect(store.verifyId(record.id).ok).toBe(true);
    expect(store.verifyId('key_nope')).toEqual({ ok: false, reason: 'unknown' });
    expect(store.verifyId(record.id, Date.now() + 2 * 3600_000)).toMatchObject({ reason: 'expired' });

    const revocations = collectRevocations(store);
    await store.setActive(record.id, false);
    expect(store.verify(key)).toEqual({ ok: false, reason: 'inactive', keyId: record.id });
    expect(store.verifyId(record.id)).toEqual({ ok: false, reason: 'inactive', keyId: record.id });
    expect(revocations).toEqual([[record.id]]);
    await store.setActive(record.id, true);
    expect(store.verify(key).ok).toBe(true);
  });

  it('rotates: the old secret fails at once, the new one works, id and limits stay', async () => {
    const store = await openStore();
    const created = await store.create({ name: 'carol', role: 'operator', limits: { promptsPerDay: 10 } });
    const revocations = collectRevocations(store);
    const rotated = await store.rotate(created.record.id);
    expect(rotated.key).not.toBe(created.key);
    expect(store.verify(created.key)).toEqual({ ok: false, reason: 'unknown' });
    const verified = store.verify(rotated.key);
    expect(verified.ok && verified.record.id).toBe(created.record.id);
    expect(rotated.record).toMatchObject({
      id: created.record.id,
      role: 'operator',
      limits: created.record.limits,
      createdAt: created.record.createdAt,
    });
    expect(rotated.record.rotatedAt).not.toBeNull();
    expect(rotated.record.hint).not.toBe(created.record.hint);
    expect(revocations).toEqual([[created.record.id]]);
    const text = await keysFileText();
    expect(text).not.toContain(rotated.key);
    expect(text).not.toContain(hashKey(created.key));
  });

  it('updates fields, merging partial limits, and revokes when the expiry moves into the past', async () => {
    const store = await openStore();
    const { key, record } = await store.create({ name: 'dan', limits: { perMinute: 5, perHour: 100 } });
    const updated = await store.update(record.id, { name: 'Dan', note: 'GPU night shift', limits: { perHour: null } });
    expect(updated).toMatchObject({
      name: 'Dan',
      note: 'GPU night shift',
      limits: { perMinute: 5, perHour: null, promptsPerDay: null, maxQueued: null },
    });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(record.updatedAt));

    const revocations = collectRevocations(store);
    await store.update(record.id, { expiresAt: '2020-01-01T00:00:00Z' });
    expect(store.verify(key)).toEqual({ ok: false, reason: 'expired', keyId: record.id });
    expect(revocations).toEqual([[record.id]]);
    await store.update(record.id, { expiresAt: null });
    expect(store.verify(key).ok).toBe(true);
  });

  it('deletes keys, and names the id of a missing key', async () => {
    const store = await openStore();
    const { key, record } = await store.create({ name: 'erin' });
    const revocations = collectRevocations(store);
    expect(await store.delete(record.id)).toMatchObject({ id: record.id, name: 'erin' });
    expect(store.verify(key)).toEqual({ ok: false, reason: 'unknown' });
    expect(store.get(record.id)).toBeUndefined();
    expect(revocations).toEqual([[record.id]]);

    expect(() => store.require(record.id)).toThrow(KeyNotFoundError);
    for (const attempt of [
      () => store.delete(record.id),
      () => store.rotate(record.id),
      () => store.setActive(record.id, true),
      () => store.update(record.id, { name: 'x' }),
    ]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyNotFoundError);
      expect(error).toMatchObject({ id: record.id, status: 404, code: 'not_found' });
    }
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const store = await openStore();
    const { record } = await store.create({ name: 'frank' });
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => store.create({ name: '   ' }), /name/],
      [() => store.create({ name: 'x'.repeat(101) }), /name/],
      [() => store.create({ name: 'x', role: 'root' as 'admin' }), /role/],
      [() => store.create({ name: 'x', limits: { perMinute: 0 } }), /limits\.perMinute/],
      [() => store.create({ name: 'x', limits: { perMinute: 1.5 } }), /limits\.perMinute/],
      [() => store.create({ name: 'x', expiresAt: '2020-01-01' }), /expiresAt.*future/],
      [() => store.create({ name: 'x', expiresAt: 'next tuesday' }), /expiresAt/],
      [() => store.create({ name: 'x', hash: 'abc' } as never), /unrecognized|hash/i],
      [() => store.update(record.id, { active: 'yes' } as never), /active/],
      [() => store.update(record.id, { limits: { burst: 3 } } as never), /limits|burst/],
      [() => store.update(record.id, { id: 'key_other' } as never), /unrecognized|id/i],
    ];
    for (const [attempt, message] of cases) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GateError);
      expect(error).toMatchObject({ status: 400, code: 'bad_request' });
      expect((error as Error).message).toMatch(message);
    }
    expect(store.list()).toHaveLength(1);
  });

  it('keeps usage in memory until flushUsage writes it in one go', async () => {
    const store = await openStore();
    const a = await store.create({ name: 'a' });
    const b = await store.create({ name: 'b' });
    const before = await keysFileText();
    const at = Date.parse('2030-05-01T10:00:00.000Z');
    store.recordUse(a.record.id, at);
    store.recordUse(a.record.id, at - 5000);
    store.recordUse(b.record.id, at + 1000);
    expect(store.get(a.record.id)?.lastUsedAt).toBe('2030-05-01T10:00:00.000Z');
    expect(await keysFileText()).toBe(before);

    await store.flushUsage();
    const onDisk = JSON.parse(await keysFileText()) as { keys: PublicKeyRecord[] };
    expect(onDisk.keys.map((record) => record.lastUsedAt)).toEqual([
      '2030-05-01T10:00:00.000Z',
      '2030-05-01T10:00:01.000Z',
    ]);
    expect(store.get(b.record.id)?.lastUsedAt).toBe('2030-05-01T10:00:01.000Z');
    const after = await keysFileText();
    await store.flushUsage();
    expect(await keysFileText()).toBe(after);
  });

  it('announces a key reaching its expiry', async () => {
    const store = await openStore();
    const { key, record } = await store.create({ name: 'brief', expiresAt: new Date(Date.now() + 300).toISOString() });
    const revocations = collectRevocations(store);
    await waitFor(() => revocations.length > 0, 2000);
    expect(revocations).toEqual([[record.id]]);
    expect(store.verify(key)).toEqual({ ok: false, reason: 'expired', keyId: record.id });
  });

  it('refuses to start over a corrupt keys.json', async () => {
    const store = await openStore();
    await store.create({ name: 'g' });
    await writeFile(join(dataDir, 'keys.json'), '{"version": 1, "keys": [{"id": 1}]}');
    await expect(KeyStore.open(dataDir)).rejects.toThrow(/keys\.json is not valid.*move it away/);
  });
});

describe('KeyStore: when sessions end', () => {
  it('moves sessionsEndedAt when a key stops or starts being usable, rotates, or signs out; not for a rename', async () => {
    const store = await openStore();
    const { record } = await store.create({ name: 'Ada' });
    expect(record.sessionsEndedAt).toBeNull();
    expect(store.sessionsEndedAt(record.id)).toBe(0);
    const ended: string[][] = [];
    store.events.on('sessionsEnded', (ids) => ended.push([...ids]));

    expect((await store.update(record.id, { name: 'Ada L.' })).sessionsEndedAt).toBeNull();
    const steps = [
      () => store.endSessions(record.id),
      () => store.setActive(record.id, false),
      () => store.setActive(record.id, true),
      () => store.update(record.id, { expiresAt: '2000-01-01' }),
      () => store.update(record.id, { expiresAt: null }),
      async () => (await store.rotate(record.id)).record,
    ];
    let previous = 0;
    for (const step of steps) {
      const after = await step();
      const endedAt = Date.parse(after.sessionsEndedAt ?? '');
      expect(endedAt).toBeGreaterThanOrEqual(previous);
      expect(store.sessionsEndedAt(record.id)).toBe(endedAt);
      previous = endedAt;
    }
    // A change that leaves the key as usable as before keeps the sessions.
    const before = store.get(record.id)?.sessionsEndedAt;
    expect((await store.update(record.id, { note: 'x', active: true })).sessionsEndedAt).toBe(before);
    expect(ended.flat().every((id) => id === record.id)).toBe(true);
    expect(ended.length).toBeGreaterThan(0);
  });
});

describe('parseExpiry', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');

  it('accepts durations and ISO dates', () => {
    expect(parseExpiry('30d', now)).toBe('2026-01-31T00:00:00.000Z');
    expect(parseExpiry('12h', now)).toBe('2026-01-01T12:00:00.000Z');
    expect(parseExpiry('90m', now)).toBe('2026-01-01T01:30:00.000Z');
    expect(parseExpiry('2w', now)).toBe('2026-01-15T00:00:00.000Z');
    expect(parseExpiry('2026-03-01', now)).toBe('2026-03-01T00:00:00.000Z');
    expect(parseExpiry('2026-03-01T12:30:00+02:00', now)).toBe('2026-03-01T10:30:00.000Z');
  });

  it('explains what it expects', () => {
    for (const bad of ['', 'soon', '30', '0d', '-1d', '3y', '2026-13-45', '1e999d']) {
      expect(() => parseExpiry(bad, now)).toThrow(/invalid expiry/);
    }
    expect(() => parseExpiry('soon', now)).toThrow(/30d.*ISO date/);
  });
});

describe('KeyStore across processes', () => {
  const fixture = fileURLToPath(new URL('./fixtures/createKeys.ts', import.meta.url));

  function startWriter(label: string): { child: ChildProcess; ready: Promise<void>; done: Promise<void> } {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, '25', label], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise<void>((resolve) => lines.on('line', (line) => line === 'ready' && resolve()));
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${label} exited ${code}: ${stderr}`))));
    });
    // An early crash must fail the test instead of leaving it waiting for "ready".
    return { child, ready: Promise.race([ready, done]), done };
  }

  it('loses no key when three processes create at once, and an open store sees them within a second', async () => {
    const observer = await openStore();
    const writer = await openStore();
    const children = [startWriter('left'), startWriter('right')];
    try {
      await Promise.all(children.map((child) => child.ready));
      for (const { child } of children) child.stdin?.write('go\n');
      const createdHere: string[] = [];
      const mine = (async () => {
        for (let i = 0; i < 25; i++) createdHere.push((await writer.create({ name: `here-${i}` })).key);
      })();
      await Promise.all([mine, ...children.map((child) => child.done)]);

      const finishedAt = Date.now();
      await waitFor(() => observer.list().length === 75, 1000);
      expect(Date.now() - finishedAt).toBeLessThan(1000);

      const names = new Set(observer.list().map((record) => record.name));
      for (const label of ['left', 'right', 'here']) {
        for (let i = 0; i < 25; i++) expect(names).toContain(`${label}-${i}`);
      }
      const onDisk = JSON.parse(await keysFileText()) as { keys: unknown[] };
      expect(onDisk.keys).toHaveLength(75);
      for (const key of createdHere) expect(observer.verify(key).ok).toBe(true);
    } finally {
      for (const { child } of children) if (child.exitCode === null) child.kill();
    }
  });
});
