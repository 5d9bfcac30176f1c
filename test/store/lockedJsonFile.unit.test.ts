import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CorruptJsonFileError, LockedJsonFile } from '../../server/store/lockedJsonFile.js';

const counterSchema = z.object({ count: z.number().int(), names: z.array(z.string()) });
type Counter = z.infer<typeof counterSchema>;
const posix = process.platform !== 'win32';

let root: string;
let open: LockedJsonFile<Counter>[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'comfygate-store-'));
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((file) => file.close()));
  await rm(root, { recursive: true, force: true });
});

async function openCounter(file = join(root, 'data', 'counter.json')): Promise<LockedJsonFile<Counter>> {
  const store = await LockedJsonFile.open({ file, schema: counterSchema, defaults: () => ({ count: 0, names: [] }) });
  open.push(store);
  return store;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe('LockedJsonFile', () => {
  it('starts from the defaults and writes the file only on the first mutation', async () => {
    const file = join(root, 'data', 'counter.json');
    const store = await openCounter(file);
    expect(store.data).toEqual({ count: 0, names: [] });
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

    const result = await store.update((draft) => {
      draft.count += 1;
      return 'done';
    });
    expect(result).toBe('done');
    expect(store.data.count).toBe(1);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ count: 1, names: [] });
  });

  it.skipIf(!posix)('keeps the folder at 0700 and the file at 0600', async () => {
    const dir = join(root, 'data');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'counter.json'), '{"count":0,"names":[]}', { mode: 0o644 });
    const store = await openCounter(join(dir, 'counter.json'));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'counter.json'))).mode & 0o777).toBe(0o600);

    await store.update((draft) => void draft.count++);
    expect((await stat(join(dir, 'counter.json'))).mode & 0o777).toBe(0o600);

    const fresh = await openCounter(join(root, 'new', 'deeper', 'counter.json'));
    await fresh.update((draft) => void draft.count++);
    expect((await stat(join(root, 'new', 'deeper'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'new', 'deeper', 'counter.json'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt file instead of resetting it, naming the file', async () => {
    const dir = join(root, 'data');
    await mkdir(dir);
    const file = join(dir, 'counter.json');
    await writeFile(file, '{"count": 1, "names": [');
    const error = await openCounter(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptJsonFileError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/fix the file .*or move it away/i);

    await writeFile(file, '{"count": "many", "names": []}');
    await expect(openCounter(file)).rejects.toThrow(/counter\.json is not valid \(at count: .*move it away/);
    expect(await readFile(file, 'utf8')).toBe('{"count": "many", "names": []}');
  });

  it('keeps one exact 0600 copy of each corrupt content it refuses, and says where in one line', async () => {
    const dir = join(root, 'data');
    await mkdir(dir);
    const file = join(dir, 'counter.json');
    const notUtf8 = Buffer.from([0x7b, 0x0a, 0xff, 0xfe, 0x0a, 0x7d]);
    await writeFile(file, notUtf8);
    const first = (await openCounter(file).catch((caught: unknown) => caught)) as CorruptJsonFileError;
    await expect(openCounter(file)).rejects.toThrow(CorruptJsonFileError);
    expect(first.message).not.toContain('\n');
    const copies = (await readdir(dir)).filter((name) => name.startsWith('counter.json.corrupt-'));
    expect(copies).toHaveLength(1);
    expect(first.copy).toBe(copies[0]);
    expect(first.message).toContain(`a copy is kept next to it as ${copies[0]}`);
    expect(await readFile(join(dir, copies[0]!))).toEqual(notUtf8);
    if (posix) expect((await stat(join(dir, copies[0]!))).mode & 0o777).toBe(0o600);

    await writeFile(file, '{"count": "many",\n "names": []}');
    await expect(openCounter(file)).rejects.toThrow(CorruptJsonFileError);
    expect((await readdir(dir)).filter((name) => name.startsWith('counter.json.corrupt-'))).toHaveLength(2);
  });

  it('writes nothing when the mutation throws or produces an invalid document', async () => {
    const store = await openCounter();
    await store.update((draft) => void (draft.count = 5));
    await expect(
      store.update(() => {
        throw new Error('no thanks');
      })
    ).rejects.toThrow('no thanks');
    await expect(store.update((draft) => void (draft.count = 1.5))).rejects.toThrow(/refusing to write an invalid/);
    expect(store.data.count).toBe(5);
    expect(JSON.parse(await readFile(store.file, 'utf8'))).toMatchObject({ count: 5 });
    expect(await readdir(join(root, 'data'))).toEqual(['counter.json']);
  });

  it('hands out a frozen snapshot', async () => {
    const store = await openCounter();
    await store.update((draft) => void draft.names.push('a'));
    expect(Object.isFrozen(store.data)).toBe(true);
    expect(() => store.data.names.push('b')).toThrow(TypeError);
  });

  it('serializes concurrent updates in one process and across instances (no lost updates)', async () => {
    const a = await openCounter();
    const b = await openCounter();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).update((draft) => {
          draft.count += 1;
          draft.names.push(`n${i}`);
        })
      )
    );
    const onDisk = counterSchema.parse(JSON.parse(await readFile(a.file, 'utf8')));
    expect(onDisk.count).toBe(40);
    expect(new Set(onDisk.names).size).toBe(40);
    expect(await readdir(join(root, 'data'))).toEqual(['counter.json']);
  });

  it('sees changes by another writer within a second, once, and ignores rewrites of equal content', async () => {
    const watcher = await openCounter();
    const writer = await openCounter();
    const changes: Counter[] = [];
    watcher.events.on('change', (data) => changes.push(data));

    await writer.update((draft) => void (draft.count = 7));
    const waited = await waitFor(() => watcher.data.count === 7, 1000);
    expect(waited).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(changes).toHaveLength(1);

    // Same content, other formatting: not a change.
    await writeFile(watcher.file, JSON.stringify({ names: [], count: 7 }));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(changes).toHaveLength(1);
  });

  it('keeps the last good document when someone breaks the file, and reports it', async () => {
    const store = await openCounter();
    await store.update((draft) => void (draft.count = 3));
    const problems: Error[] = [];
    store.events.on('invalid', (error) => problems.push(error));
    await writeFile(store.file, 'not json at all');
    await waitFor(() => problems.length > 0, 1000);
    expect(problems[0]).toBeInstanceOf(CorruptJsonFileError);
    expect(store.data.count).toBe(3);
    await expect(store.update((draft) => void draft.count++)).rejects.toThrow(/move it away/);
    expect(await readFile(store.file, 'utf8')).toBe('not json at all');
  });

  it('takes over the lock of a crashed process', async () => {
    const store = await openCounter();
    const lockDir = `${store.file}.lock`;
    await mkdir(lockDir);
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockDir, longAgo, longAgo);
    await store.update((draft) => void draft.count++);
    expect(store.data.count).toBe(1);
    await expect(stat(lockDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops watching and refuses mutations after close()', async () => {
    const store = await openCounter();
    const writer = await openCounter();
    let changes = 0;
    store.events.on('change', () => changes++);
    await store.close();
    await writer.update((draft) => void draft.count++);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(changes).toBe(0);
    await expect(store.update((draft) => void draft.count++)).rejects.toThrow(/closed/);
  });
});
