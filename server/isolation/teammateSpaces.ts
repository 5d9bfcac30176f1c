import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAtomically } from '../store/atomicWrite.js';

/**
 * The per-user files of ComfyUI's user folder that both frontends write on a first visit and in
 * daily use, besides the settings: the node templates ("Save selected as template").
 */
export const PER_USER_FILES: ReadonlySet<string> = new Set(['comfy.templates.json']);

/** One teammate's whole space on disk: the frontend's writes are small (settings, a templates file). */
export const MAX_SPACE_BYTES = 4 * 1024 * 1024;
export const MAX_SETTING_ID = 256;
/** Anonymous callers (mode `optional`) share one space, as they share one ComfyUI user under --multi-user. */
const ANONYMOUS_TAG = 'anonymous';
const SAFE_TAG = /^(?:key_[0-9A-Za-z]+|anonymous)$/;
const DIR_MODE = 0o700;
const isWindows = process.platform === 'win32';

export const settingIdSchema = z
  .string()
  .min(1)
  .max(MAX_SETTING_ID)
  // Assigned as a key, it would replace the settings object's prototype instead of naming a setting.
  .refine((id) => id !== '__proto__', 'a setting id cannot be __proto__');
const jsonValueSchema = z.json();
/** `POST /settings`: ComfyUI merges a JSON object into the user's settings file. */
export const settingsPatchSchema = z.record(settingIdSchema, jsonValueSchema);

const spaceSchema = z
  .object({
    settings: z.record(settingIdSchema, jsonValueSchema),
    files: z.record(
      z.string().refine((name) => PER_USER_FILES.has(name)),
      z.string()
    ),
    /** Workflows this teammate saved into ComfyUI's shared folder: the only ones they may replace, move or delete. */
    workflows: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type TeammateSpace = z.infer<typeof spaceSchema>;
export type JsonValue = z.infer<typeof jsonValueSchema>;

/** A change would make the space larger than MAX_SPACE_BYTES; nothing was written. */
export class SpaceFullError extends Error {
  constructor(size: number) {
    super(
      `Your saved settings and templates would take ${size} bytes; the gate keeps at most ${MAX_SPACE_BYTES} per teammate`
    );
    this.name = 'SpaceFullError';
  }
}

/**
 * Each teammate's own ComfyUI settings and per-user files, kept by the gate when ComfyUI runs
 * without `--multi-user` (everyone is ComfyUI's one `default` user then): what a teammate changes
 * sits on top of ComfyUI's shared files for them alone. It also lists the shared workflows they
 * saved. One JSON file per key in `<data dir>/teammates/`, 0600, replaced atomically before the
 * write is answered. Only this process writes them, so each key's writes are queued and its
 * document is cached after the first read.
 */
export class TeammateSpaces {
  readonly #dir: string;
  readonly #cache = new Map<string, Promise<TeammateSpace>>();
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'teammates');
  }

  /** The space of a limits subject (key id or `anon:<ip>`), with every change asked for so far; empty when none. */
  get(subject: string): Promise<TeammateSpace> {
    const tag = tagOf(subject);
    const writing = this.#writes.get(tag);
    return writing ? writing.then(() => this.#load(tag)) : this.#load(tag);
  }

  /** Applies `change` to the subject's space and writes it; rejects with SpaceFullError when too big. */
  update(subject: string, change: (draft: TeammateSpace) => void): Promise<void> {
    const tag = tagOf(subject);
    const previous = this.#writes.get(tag) ?? Promise.resolve();
    const write = previous.then(async () => {
      const current = await this.#load(tag);
      const draft = spaceSchema.parse(structuredClone(current));
      change(draft);
      const text = JSON.stringify(spaceSchema.parse(draft));
      const size = Buffer.byteLength(text);
      if (size > MAX_SPACE_BYTES) throw new SpaceFullError(size);
      await this.#write(tag, text);
      this.#cache.set(tag, Promise.resolve(draft));
    });
    const settled = write.catch(() => undefined);
    this.#writes.set(tag, settled);
    void settled.then(() => {
      if (this.#writes.get(tag) === settled) this.#writes.delete(tag);
    });
    return write;
  }

  /** Resolves once every write asked for so far is on disk (or failed): the gate waits for it on stop. */
  async settle(): Promise<void> {
    await Promise.all(this.#writes.values());
  }

  #load(tag: string): Promise<TeammateSpace> {
    let space = this.#cache.get(tag);
    if (!space) {
      space = this.#read(tag);
      // A failed read (a disk error) is tried again by the next request rather than remembered.
      space.catch(() => this.#cache.delete(tag));
      this.#cache.set(tag, space);
    }
    return space;
  }

  #file(tag: string): string {
    if (!SAFE_TAG.test(tag)) throw new Error(`no teammate space for ${tag}`);
    return join(this.#dir, `${tag}.json`);
  }

  async #read(tag: string): Promise<TeammateSpace> {
    let text: string;
    try {
      text = await readFile(this.#file(tag), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {}, files: {}, workflows: [] };
      throw error;
    }
    const parsed = spaceSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${this.#file(tag)} is not a teammate space: ${parsed.error.message}`);
    return parsed.data;
  }

  async #write(tag: string, text: string): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: DIR_MODE });
    if (!isWindows) await chmod(this.#dir, DIR_MODE);
    await writeAtomically(this.#file(tag), text);
  }
}

function tagOf(subject: string): string {
  return subject.startsWith('anon:') ? ANONYMOUS_TAG : subject;
}
