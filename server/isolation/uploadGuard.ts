import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GateError } from '../errors.js';

/** The form fields of `/upload/image` and `/upload/mask` that decide which files an upload touches. */
const WATCHED_FIELDS = new Set(['type', 'subfolder', 'overwrite', 'original_ref']);
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/** What the gate learned of an upload form while it streamed through. */
export interface UploadForm {
  /** The file name of the `image` part. */
  fileName: string | undefined;
  /** The small text fields that decide where it goes. */
  fields: Map<string, string>;
}

/** Decides, once the whole form has passed but before ComfyUI can act on it, whether it may. */
export type UploadDecision = (form: UploadForm) => GateError | undefined | Promise<GateError | undefined>;

/**
 * Streams an upload's multipart body to ComfyUI unchanged while reading the few fields that say
 * which files it touches. The last bytes (the closing boundary) are held back until `decide` has
 * answered: ComfyUI's `request.post()` saves nothing before the form is complete, so a refused
 * upload never reaches its disk. Nothing else of the body is kept.
 */
export function guardUpload(body: Readable, contentType: string | undefined, decide: UploadDecision): Readable {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const guard = new UploadGuard(boundary ? (boundary[1] ?? boundary[2]!) : undefined, decide);
  body.on('error', (error) => guard.destroy(error));
  return body.pipe(guard);
}

class UploadGuard extends Transform {
  readonly #form: UploadForm = { fileName: undefined, fields: new Map() };
  readonly #decide: UploadDecision;
  /** `\r\n--boundary`: the stream is read as if it began with `\r\n`, so the first boundary looks like the others. */
  readonly #delimiter: Buffer | undefined;
  #scan: Buffer = Buffer.from('\r\n');
  #state: 'body' | 'after-delimiter' | 'headers' | 'done' = 'body';
  #field: { name: string; chunks: Buffer[]; size: number } | null = null;
  /** Bytes not yet passed on: at least the length of the closing boundary. */
  #held: Buffer = Buffer.alloc(0);
  readonly #holdBytes: number;

  constructor(boundary: string | undefined, decide: UploadDecision) {
    super();
    this.#decide = decide;
    this.#delimiter = boundary === undefined ? undefined : Buffer.from(`\r\n--${boundary}`);
    this.#holdBytes = (this.#delimiter?.length ?? 0) + 8;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#delimiter !== undefined && this.#state !== 'done') this.#parse(chunk, this.#delimiter);
    const all = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const passOn = all.length - this.#holdBytes;
    if (passOn > 0) {
      this.#held = Buffer.from(all.subarray(passOn));
      callback(null, all.subarray(0, passOn));
    } else {
      this.#held = Buffer.from(all);
      callback();
    }
  }

  override _flush(callback: TransformCallback): void {
    let decided: ReturnType<UploadDecision>;
    try {
      decided = this.#decide(this.#form);
    } catch (error) {
      callback(error as Error);
      return;
    }
    Promise.resolve(decided).then(
      (refusal) => (refusal ? callback(refusal) : callback(null, this.#held)),
      (error: unknown) => callback(error as Error)
    );
  }

  #parse(chunk: Buffer, delimiter: Buffer): void {
    let buf = Buffer.concat([this.#scan, chunk]);
    for (;;) {
      if (this.#state === 'body') {
        const at = buf.indexOf(delimiter);
        const end = at === -1 ? Math.max(0, buf.length - delimiter.length + 1) : at;
        this.#collect(buf.subarray(0, end));
        buf = buf.subarray(at === -1 ? end : at + delimiter.length);
        if (at === -1) break;
        this.#endField();
        this.#state = 'after-delimiter';
      } else if (this.#state === 'after-delimiter') {
        if (buf.length < 2) break;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          this.#state = 'done';
          break;
        }
        const lineEnd = buf.indexOf('\r\n');
        if (lineEnd === -1) break;
        buf = buf.subarray(lineEnd + 2);
        this.#state = 'headers';
      } else if (this.#state === 'headers') {
        const at = buf.indexOf(HEADER_END);
        if (at === -1) {
          if (buf.length > MAX_HEADER_BYTES) this.#state = 'done';
          break;
        }
        this.#startPart(buf.subarray(0, at).toString('utf8'));
        buf = buf.subarray(at + HEADER_END.length);
        this.#state = 'body';
      } else break;
    }
    this.#scan = Buffer.from(buf);
  }

  #startPart(headers: string): void {
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const fileName = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name === 'image' && fileName !== undefined) this.#form.fileName = fileName;
    this.#field =
      fileName === undefined && name !== undefined && WATCHED_FIELDS.has(name) ? { name, chunks: [], size: 0 } : null;
  }

  #collect(data: Buffer): void {
    const field = this.#field;
    if (!field || data.length === 0) return;
    field.size += data.length;
    if (field.size > MAX_FIELD_BYTES) this.#field = null;
    else field.chunks.push(Buffer.from(data));
  }

  #endField(): void {
    const field = this.#field;
    if (field) this.#form.fields.set(field.name, Buffer.concat(field.chunks).toString('utf8'));
    this.#field = null;
  }
}

/** The refusal of an upload that would replace another teammate's file. */
export function overwriteRefusal(name: string): GateError {
  return new GateError(
    'not_your_file',
    `${name} is another teammate's file; upload without overwrite to keep both (ComfyUI then renames yours)`
  );
}
