import { randomBytes } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../appLog/logger.js';
import { writeAtomically } from '../store/atomicWrite.js';

/** Left in the data dir while a gate runs, so the CLI knows which gate serves that data dir. */
export const RUNTIME_FILE = 'gate.runtime.json';

const runtimeRecordSchema = z.object({
  /** Where this machine reaches the gate (loopback for a gate on every interface). */
  url: z.string().url(),
  /** The link teammates open. */
  shareUrl: z.string().url(),
  pid: z.number().int().positive(),
  version: z.string(),
  startedAt: z.string(),
  /**
   * Lets the CLI ask the gate to adopt its change now. Only this user can read the file (0600),
   * and anyone who can has the data dir anyway.
   */
  controlToken: z.string().min(32),
  /** Under HTTPS, the certificate the gate serves (PEM): the CLI trusts exactly it for `url`. */
  certificate: z.string().optional(),
});

export type RuntimeRecord = z.infer<typeof runtimeRecordSchema>;

export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Written atomically, 0600: a reader sees the whole record or none. */
export async function writeRuntimeRecord(dataDir: string, record: RuntimeRecord): Promise<void> {
  await writeAtomically(join(dataDir, RUNTIME_FILE), JSON.stringify(record, null, 2) + '\n');
}

/** Removes the record only while it is still this process's: a newer gate may have replaced it. */
export async function removeRuntimeRecord(dataDir: string, pid: number = process.pid): Promise<void> {
  const current = await readRuntimeRecord(dataDir);
  if (current?.pid !== pid) return;
  await unlink(join(dataDir, RUNTIME_FILE)).catch(() => undefined);
}

/** The record as written, or undefined when there is none or it is unreadable. */
export async function readRuntimeRecord(dataDir: string): Promise<RuntimeRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, RUNTIME_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = runtimeRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** False when no process has that id (a gate that crashed or was killed left its record behind). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** gate.runtime.json for one running gate: `record` describes it as it is now (its address moves). */
export interface RuntimeRecordFile {
  /** Throws: a gate that cannot leave its record must not start. */
  write(): Promise<void>;
  /** After a change while running: a failure only warns. */
  rewrite(): Promise<void>;
  remove(): Promise<void>;
}

export function runtimeRecordFile(dataDir: string, logger: Logger, record: () => RuntimeRecord): RuntimeRecordFile {
  const write = (): Promise<void> => writeRuntimeRecord(dataDir, record());
  return {
    write,
    rewrite: () => write().catch((error: unknown) => logger.warn({ err: error }, 'could not update gate.runtime.json')),
    remove: () => removeRuntimeRecord(dataDir),
  };
}
