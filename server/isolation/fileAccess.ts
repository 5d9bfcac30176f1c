import { GateError } from '../errors.js';
import { isJsonObject } from '../pipeline/jsonMembers.js';
import type { Upstream } from '../upstream/upstream.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { outputFileKeys } from './fileKeys.js';
import type { FileOwners } from './fileOwners.js';

/** How many of a caller's unfinished-looking prompts one lookup asks ComfyUI about. */
const HARVESTED_PER_LOOKUP = 8;
const REQUEST_TIMEOUT_MS = 5_000;
const EXECUTED = Buffer.from('"executed"');

/**
 * Whether an isolated caller may read a file of ComfyUI's input, output or temp folder: their own
 * files yes, another teammate's never (answered as ComfyUI answers a missing file), files of no
 * known owner as the `unownedFiles` setting says. A file the gate does not know yet may be an
 * output of the caller's prompt that finished while nobody watched (a script without a WebSocket):
 * the gate then asks ComfyUI for those prompts' history entries first.
 */
export class FileAccess {
  readonly #files: FileOwners;
  readonly #upstream: Upstream;
  readonly #settings: SettingsStore;
  /** One lookup per subject at a time; later requests wait for it. */
  readonly #harvesting = new Map<string, Promise<void>>();

  constructor(files: FileOwners, upstream: Upstream, settings: SettingsStore) {
    this.#files = files;
    this.#upstream = upstream;
    this.#settings = settings;
  }

  /** The refusal for reading `key`, undefined to let it through, or a promise of either when the gate must look first. */
  check(subject: string, key: string): GateError | undefined | Promise<GateError | undefined> {
    const known = this.#decide(subject, key);
    if (known !== null) return known;
    return this.#harvest(subject).then(() => {
      const learned = this.#decide(subject, key);
      return learned === null ? this.#unowned() : learned;
    });
  }

  /** An upload of `subject` became this file. */
  recordFile(subject: string, key: string): void {
    this.#files.record(key, subject);
  }

  /** Records the outputs of a prompt of `subject` seen in an answer the gate filtered for them. */
  recordOutputs(subject: string, promptId: string, outputs: unknown): void {
    for (const key of outputFileKeys(outputs)) this.#files.record(key, subject);
    this.#files.settle(promptId);
  }

  /**
   * Watches ComfyUI's WebSocket messages for `executed`: the web UI shows an output as soon as it
   * arrives, before the prompt ends and has a history entry.
   */
  readonly onUpstreamText = (frame: Buffer): void => {
    if (!this.#files.hasPending || frame.indexOf(EXECUTED) === -1) return;
    let message: unknown;
    try {
      message = JSON.parse(frame.toString('utf8'));
    } catch {
      return;
    }
    if (!isJsonObject(message) || message['type'] !== 'executed' || !isJsonObject(message['data'])) return;
    const { prompt_id: promptId, output } = message['data'];
    const owner = typeof promptId === 'string' ? this.#files.pendingOwner(promptId) : undefined;
    // More outputs of the prompt may follow: it stays pending until its history entry is seen.
    if (owner !== undefined) for (const key of outputFileKeys({ node: output })) this.#files.record(key, owner);
  };

  #decide(subject: string, key: string): GateError | undefined | null {
    const owners = this.#files.ownersOf(key);
    if (owners === undefined) return null;
    return owners.includes(subject) ? undefined : notFound();
  }

  #unowned(): GateError | undefined {
    return this.#settings.current.unownedFiles === 'visible' ? undefined : notFound();
  }

  #harvest(subject: string): Promise<void> {
    let running = this.#harvesting.get(subject);
    if (!running) {
      running = this.#harvestNow(subject).finally(() => this.#harvesting.delete(subject));
      this.#harvesting.set(subject, running);
    }
    return running;
  }

  async #harvestNow(subject: string): Promise<void> {
    const ids = this.#files.pendingOf(subject, Date.now(), HARVESTED_PER_LOOKUP);
    await Promise.all(
      ids.map(async (id) => {
        const entry = await this.#historyEntry(id);
        if (entry !== undefined) this.recordOutputs(subject, id, entry['outputs']);
      })
    );
  }

  /** ComfyUI's history entry of one prompt; undefined while it has none (queued, running) or cannot say. */
  async #historyEntry(promptId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await this.#upstream.pool.request({
        path: `/history/${encodeURIComponent(promptId)}`,
        method: 'GET',
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) return undefined;
      const parsed: unknown = JSON.parse(text);
      const entry = isJsonObject(parsed) ? parsed[promptId] : undefined;
      return isJsonObject(entry) ? entry : undefined;
    } catch {
      // Unreachable or not JSON: the file stays of unknown owner for now.
      return undefined;
    }
  }
}

function notFound(): GateError {
  return new GateError('not_found', 'No such file among yours');
}
