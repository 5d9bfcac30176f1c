import { GateError } from '../errors.js';
import { isJsonObject, memberText, objectMembers, withMemberValue } from '../pipeline/jsonMembers.js';
import type { Upstream } from '../upstream/upstream.js';

/** How long the answer to "does ComfyUI run with `--multi-user`?" is trusted (it may be restarted). */
const RECHECK_MS = 60_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** The ComfyUI user every anonymous caller shares (mode `optional`). */
const ANONYMOUS_TAG = 'anonymous';
/** The gate's users are named `<key name> [<key id>]`, so it finds them again after a restart. */
const TAG_AT_END = /\[(key_[0-9A-Za-z]+|anonymous|env)\]$/;

/**
 * ComfyUI's `--multi-user` mode trusts the `Comfy-User` header blindly. Under team isolation the
 * gate sends its own instead: one ComfyUI user per key (created through ComfyUI's own
 * `POST /users`), so settings and saved workflows become each teammate's own. ComfyUI's users.json
 * is the only record: the gate finds its users again by the key id in their names. ComfyUI is
 * asked only for isolated callers' requests, so a gate without them never sends it anything extra.
 */
export class ComfyUsers {
  readonly #upstream: Upstream;
  #multiUser: boolean | undefined;
  #checkedAt = 0;
  /** Key id (or `anonymous`) → ComfyUI user id. */
  readonly #ids = new Map<string, string>();
  readonly #creating = new Map<string, Promise<string | GateError>>();
  #refreshing: Promise<void> | undefined;

  constructor(upstream: Upstream) {
    this.#upstream = upstream;
  }

  /**
   * Whether ComfyUI runs with `--multi-user`, by its last answer (undefined before the first); an
   * answer older than a minute is renewed in the background.
   */
  multiUser(now: number): boolean | undefined {
    if (this.#multiUser !== undefined && now - this.#checkedAt >= RECHECK_MS) void this.refresh();
    return this.#multiUser;
  }

  /** ComfyUI came back: it may have been restarted with or without `--multi-user`. */
  markStale(): void {
    this.#checkedAt = 0;
  }

  /** The ComfyUI user of a limits subject (key id or `anon:<ip>`), when the gate has one for it. */
  userOf(subject: string): string | undefined {
    return this.#ids.get(tagOf(subject));
  }

  /** The subject's ComfyUI user, created when it has none yet; a refusal when ComfyUI would not create it. */
  ensure(subject: string, keyName: string | undefined): Promise<string | GateError> {
    const tag = tagOf(subject);
    const known = this.#ids.get(tag);
    if (known !== undefined) return Promise.resolve(known);
    let creating = this.#creating.get(tag);
    if (!creating) {
      creating = this.#create(tag, keyName).finally(() => this.#creating.delete(tag));
      this.#creating.set(tag, creating);
    }
    return creating;
  }

  /** Asks ComfyUI whether it runs with `--multi-user`, and learns the users the gate made before. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#readUsers()
      .then((users) => {
        this.#multiUser = users !== undefined;
        this.#checkedAt = Date.now();
        if (users) this.#learn(users);
      })
      // Unreachable: asked again by the next isolated request.
      .catch(() => undefined)
      .finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #create(tag: string, keyName: string | undefined): Promise<string | GateError> {
    // Another gate process, or this one before a restart, may have made the user already.
    const users = await this.#readUsers().catch(() => undefined);
    if (users) this.#learn(users);
    const known = this.#ids.get(tag);
    if (known !== undefined) return known;
    const label = tag === ANONYMOUS_TAG ? 'Anonymous' : (keyName ?? '').trim() || 'Teammate';
    const username = `${label} [${tag}]`;
    try {
      const res = await this.#upstream.pool.request({
        path: '/users',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username }),
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS,
      });
      const text = await res.body.text();
      const id: unknown = res.statusCode === 200 ? JSON.parse(text) : undefined;
      if (typeof id === 'string' && id !== '') {
        this.#ids.set(tag, id);
        return id;
      }
    } catch {
      // Answered below: the caller gets a clear refusal, never another teammate's user.
    }
    return new GateError(
      'upstream_unexpected',
      `ComfyUI at ${this.#upstream.url} runs with --multi-user but did not create a user for this key; try again`
    );
  }

  /** ComfyUI's `{id: name}` user list, or undefined when it does not run with `--multi-user`. */
  async #readUsers(): Promise<Record<string, unknown> | undefined> {
    const res = await this.#upstream.pool.request({
      path: '/users',
      method: 'GET',
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return undefined;
    const parsed: unknown = JSON.parse(text);
    const users = isJsonObject(parsed) ? parsed['users'] : undefined;
    return isJsonObject(users) ? users : undefined;
  }

  #learn(users: Record<string, unknown>): void {
    for (const [id, name] of Object.entries(users)) {
      const tag = typeof name === 'string' ? TAG_AT_END.exec(name)?.[1] : undefined;
      if (tag !== undefined) this.#ids.set(tag, id);
    }
  }
}

function tagOf(subject: string): string {
  return subject.startsWith('anon:') ? ANONYMOUS_TAG : subject;
}

/**
 * `GET /users` of a `--multi-user` ComfyUI for an isolated caller: only their own user, so the
 * frontend's user screen offers just that one and nobody learns the others' names.
 */
export function filterUsers(json: string, comfyUser: string | null): string | undefined {
  // Without --multi-user the answer names no users.
  const members = objectMembers(json);
  if (!members) return undefined;
  const users = members.find((m) => m.key === 'users');
  if (!users) return json;
  const entries = objectMembers(json, users.valueStart, users.valueEnd);
  if (!entries) return undefined;
  const own = entries.filter((entry) => entry.key === comfyUser).map((entry) => memberText(json, entry));
  return withMemberValue(json, members, users, `{${own.join(',')}}`);
}
