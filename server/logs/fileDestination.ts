import type { pino } from 'pino';

export type SonicBoom = ReturnType<typeof pino.destination>;

/** One sonic-boom over one file, with the byte counts needed to tell when everything handed to it is on disk. */
export class Destination {
  accepted = 0;
  #written = 0;
  #failed = false;
  #opened = false;
  #openFailed = false;
  #ending = false;
  #waiters: Array<() => void> = [];
  readonly write: (chunk: Buffer) => boolean;

  constructor(
    readonly file: string,
    readonly sonic: SonicBoom,
    batched: boolean,
    onError: (error: Error) => void
  ) {
    // contentMode 'buffer' makes sonic-boom take Buffers; its typings only know strings.
    this.write = sonic.write.bind(sonic) as unknown as (chunk: Buffer) => boolean;
    sonic.once('ready', () => {
      this.#opened = true;
      if (this.#waiters.length > 0) this.#push();
    });
    sonic.on('write', (bytes: number) => {
      this.#written += bytes;
      this.#failed = false;
      if (this.#written >= this.accepted) this.#release();
      // A batched sonic-boom stops after this write while less than its batch is left, and it is still writing
      // now, so a flush asked for in this callback would be ignored: ask again once the callback returned.
      else if (batched && this.#waiters.length > 0) queueMicrotask(() => this.#push());
    });
    sonic.on('error', (error: Error) => {
      if (!this.#opened) this.#openFailed = true;
      this.#failed = true;
      this.#release();
      onError(error);
    });
  }

  /** Resolves once every accepted byte is written, or a write failed (best effort: nothing waits forever). */
  drained(): Promise<void> {
    if (this.#written >= this.accepted || this.#failed) return Promise.resolve();
    const drained = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#push();
    return drained;
  }

  /** Starts writing what a batched sonic-boom holds back; a no-op while it writes (see the 'write' handler). */
  #push(): void {
    if (this.#opened && !this.#ending) this.sonic.flush();
  }

  /** Writes what is buffered, then closes the file. */
  end(): Promise<void> {
    // sonic-boom cannot end a stream whose file never opened: it would wait for a 'close' that never comes.
    if (this.#openFailed || this.#ending) return Promise.resolve();
    this.#ending = true;
    return new Promise((resolve) => {
      this.sonic.once('close', resolve);
      this.sonic.once('error', () => resolve());
      this.sonic.end();
    });
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
