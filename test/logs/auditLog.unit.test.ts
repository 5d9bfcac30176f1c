import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionTokens } from '../../server/auth/sessionTokens.js';
import { generateKey } from '../../server/keys/keyFormat.js';
import { AuditLog, type AuditRecord } from '../../server/logs/auditLog.js';
import { memorySignOuts } from '../helpers/signOuts.js';

let dataDir: string;
const opened: AuditLog[] = [];

async function openAudit(options: { maxBytes?: number; maxFiles?: number } = {}): Promise<AuditLog> {
  const audit = await AuditLog.open({ dataDir, ...options });
  opened.push(audit);
  return audit;
}

async function auditText(): Promise<string> {
  const dir = join(dataDir, 'logs');
  const files = (await readdir(dir)).filter((name) => name.startsWith('audit-')).sort();
  return (await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')))).join('');
}

async function everything(audit: AuditLog, query: Parameters<AuditLog['query']>[0] = {}): Promise<AuditRecord[]> {
  const items: AuditRecord[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await audit.query({ ...query, before });
    items.push(...page.items);
    if (page.next === null) return items;
    before = page.next;
  }
  throw new Error('paging did not end');
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfygate-audit-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((audit) => audit.close()));
  await rm(dataDir, { recursive: true, force: true });
});

describe('AuditLog', () => {
  it('records events with a time and finds them newest first, at once', async () => {
    const audit = await openAudit();
    const before = Date.now();
    audit.record({ action: 'key.created', actorKeyId: 'key_admin', clientIp: '127.0.0.1', target: 'key_new' });
    audit.record({ action: 'login.failed', actorKeyId: null, clientIp: '10.0.0.9' });
    audit.record({
      action: 'settings.updated',
      actorKeyId: 'env',
      clientIp: null,
      details: { changed: ['mode'], from: 'off', to: 'required' },
    });

    const page = await audit.query();
    expect(page.next).toBeNull();
    expect(page.items.map((item) => item.action)).toEqual(['settings.updated', 'login.failed', 'key.created']);
    expect(page.items[2]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      action: 'key.created',
      actorKeyId: 'key_admin',
      clientIp: '127.0.0.1',
      target: 'key_new',
    });
    expect(Date.parse(page.items[0]!.time)).toBeGreaterThanOrEqual(before - 1);
    expect(page.items[0]?.details).toEqual({ changed: ['mode'], from: 'off', to: 'required' });

    const lines = (await auditText()).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(Object.keys(JSON.parse(lines[0]!) as object)[0]).toBe('time');
    if (process.platform !== 'win32') {
      const dir = join(dataDir, 'logs');
      for (const file of await readdir(dir)) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    }
  });

  it('filters by action and since, and pages with the cursor', async () => {
    const audit = await openAudit();
    for (let i = 0; i < 40; i++) {
      audit.record({ action: i % 4 === 0 ? 'login' : 'key.updated', actorKeyId: `key_${i}`, clientIp: null });
    }
    const logins = await everything(audit, { action: 'login', limit: 3 });
    expect(logins.map((item) => item.actorKeyId)).toEqual([36, 32, 28, 24, 20, 16, 12, 8, 4, 0].map((i) => `key_${i}`));
    // `login` must not match `login.failed`.
    audit.record({ action: 'login.failed', actorKeyId: null, clientIp: null });
    expect((await audit.query({ action: 'login', limit: 1 })).items[0]?.actorKeyId).toBe('key_36');

    const all = await everything(audit, { limit: 7 });
    expect(all).toHaveLength(41);
    expect(new Set(all.map((item) => item.actorKeyId ?? 'none')).size).toBe(41);

    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = Date.now();
    audit.record({ action: 'logout', actorKeyId: 'key_late', clientIp: null });
    expect((await audit.query({ since: cut })).items.map((item) => item.actorKeyId)).toEqual(['key_late']);
    expect((await audit.query({ since: Date.now() + 60_000 })).items).toEqual([]);
  });

  it('never writes a secret, even one passed in the details', async () => {
    const key = generateKey();
    const jwt = new SessionTokens(randomBytes(32), memorySignOuts()).sign('session', 'key_a', 'v', 60).token;
    const audit = await openAudit();
    audit.record({
      action: 'key.rotated',
      actorKeyId: 'key_admin',
      clientIp: '127.0.0.1',
      target: `key_a ${key}`,
      details: {
        key,
        hash: 'a'.repeat(64),
        nested: { note: `copied ${key} and ${jwt}`, list: [key, { Token: 'plain' }] },
        when: new Date(0),
      },
    });
    await audit.close();
    const text = await auditText();
    expect(text).not.toContain('cgk_');
    expect(text).not.toContain('eyJ');
    expect(text).not.toContain('a'.repeat(64));
    expect(text).not.toContain('plain');
    const reopened = await openAudit();
    const [record] = (await reopened.query()).items;
    expect(record?.details).toEqual({
      key: '[redacted]',
      hash: '[redacted]',
      nested: { note: 'copied [redacted-key] and [redacted-token]', list: ['[redacted-key]', { Token: '[redacted]' }] },
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('keeps its history across restarts and rotates by size like the request log', async () => {
    let audit = await openAudit({ maxBytes: 2048, maxFiles: 2 });
    for (let i = 0; i < 10; i++)
      audit.record({ action: 'key.deleted', actorKeyId: null, clientIp: null, target: `k${i}` });
    await audit.close();
    audit = await openAudit({ maxBytes: 2048, maxFiles: 2 });
    for (let i = 10; i < 60; i++)
      audit.record({ action: 'key.deleted', actorKeyId: null, clientIp: null, target: `k${i}` });
    await audit.close();

    const files = (await readdir(join(dataDir, 'logs'))).filter((name) => name.startsWith('audit-'));
    expect(files).toHaveLength(2);
    const reopened = await openAudit({ maxBytes: 2048, maxFiles: 2 });
    const targets = (await everything(reopened, { limit: 1000 })).map((item) => item.target);
    expect(targets[0]).toBe('k59');
    const oldest = Number(targets.at(-1)!.slice(1));
    expect(targets).toEqual(Array.from({ length: 60 - oldest }, (_, k) => `k${59 - k}`));
  });

  it('refuses a cursor of the request log', async () => {
    const audit = await openAudit();
    const requestCursor = Buffer.from(JSON.stringify(['requests-2025-01-01T00-00-00-000Z.jsonl', 0])).toString(
      'base64url'
    );
    await expect(audit.query({ before: requestCursor })).rejects.toMatchObject({ status: 400 });
  });
});
