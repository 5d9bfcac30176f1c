import { join } from 'node:path';
import { z } from 'zod';
import { LockedJsonFile } from '../store/lockedJsonFile.js';
import type { DocumentSharing, SharedDocument } from '../store/sharedDocument.js';
import type { SignOutList } from './sessionTokens.js';

export const SIGNED_OUT_FILE = 'signed-out.json';
/** The sign-outs' name in a DocumentSharing (Redis). */
export const SIGNED_OUT_DOCUMENT = 'signed-out';

const signedOutFileSchema = z
  .object({
    version: z.literal(1),
    /** Token id (jti, a random UUID: not a credential) → the token's own expiry, seconds since the epoch. */
    sessions: z.record(z.string().min(1).max(100), z.number().int().nonnegative()),
  })
  .strict();
type SignedOutFile = z.infer<typeof signedOutFileSchema>;

/**
 * Single sessions that signed out, kept in `signed-out.json` (0600) until the token would have expired anyway, so a
 * copy of a signed-out cookie stays worthless after a restart or a crash. Checks are answered from memory; an entry is
 * on disk before add() resolves.
 */
export class SignedOutSessions implements SignOutList {
  #ids = new Map<string, number>();

  private constructor(private readonly file: SharedDocument<SignedOutFile>) {
    this.#index(file.data);
    file.events.on('change', (data) => this.#index(data));
  }

  /** With `sharing`, signed-out.json is only the local copy and the shared document (Redis) is the source of truth. */
  static async open(dataDir: string, sharing?: DocumentSharing): Promise<SignedOutSessions> {
    const file = await LockedJsonFile.open({
      file: join(dataDir, SIGNED_OUT_FILE),
      schema: signedOutFileSchema,
      defaults: (): SignedOutFile => ({ version: 1, sessions: {} }),
    });
    return new SignedOutSessions(sharing ? await sharing.share(SIGNED_OUT_DOCUMENT, file, signedOutFileSchema) : file);
  }

  /** The hot path: one map lookup. */
  has(jti: string): boolean {
    return this.#ids.size > 0 && this.#ids.has(jti);
  }

  /** Remembers `jti` until `exp` (seconds) and forgets every entry past its expiry on the same write. */
  async add(jti: string, exp: number, now = Date.now()): Promise<void> {
    this.#ids.set(jti, exp);
    await this.file.update((draft) => {
      for (const [id, expires] of Object.entries(draft.sessions)) {
        if (expires * 1000 <= now) delete draft.sessions[id];
      }
      draft.sessions[jti] = exp;
    });
  }

  close(): Promise<void> {
    return this.file.close();
  }

  #index(data: SignedOutFile): void {
    const now = Date.now();
    const ids = new Map<string, number>();
    for (const [jti, exp] of Object.entries(data.sessions)) if (exp * 1000 > now) ids.set(jti, exp);
    // A sign-out still being written is kept: the reload that reports an older file must not undo it.
    for (const [jti, exp] of this.#ids) if (exp * 1000 > now && !ids.has(jti)) ids.set(jti, exp);
    this.#ids = ids;
  }
}
