// The upload guard reads an upload's form fields while the body streams through unchanged, however
// the bytes are cut into chunks, and holds back the closing boundary until it has decided.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GateError } from '../../server/errors.js';
import { guardUpload, type UploadForm } from '../../server/isolation/uploadGuard.js';

const BOUNDARY = '----form7MA4YWxkTrZu0gW';

function form(parts: Array<{ name: string; value: string | Buffer; filename?: string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const type = part.filename === undefined ? '' : 'Content-Type: image/png\r\n';
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(typeof part.value === 'string' ? Buffer.from(part.value) : part.value);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** The body cut into `size`-byte chunks, through the guard; what came out and what the guard saw. */
async function through(
  body: Buffer,
  size: number,
  refuse = false
): Promise<{ out: Buffer; form: UploadForm | undefined; error: unknown }> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
  let seen: UploadForm | undefined;
  const guarded = guardUpload(Readable.from(chunks), `multipart/form-data; boundary=${BOUNDARY}`, (f) => {
    seen = f;
    return refuse ? new GateError('not_your_file', 'refused') : undefined;
  });
  const out: Buffer[] = [];
  try {
    for await (const chunk of guarded) out.push(chunk as Buffer);
    return { out: Buffer.concat(out), form: seen, error: undefined };
  } catch (error) {
    return { out: Buffer.concat(out), form: seen, error };
  }
}

// Image bytes that contain the boundary's dashes and CRLFs, to tempt a careless parser.
const IMAGE = Buffer.concat([
  Buffer.alloc(5_000, 7),
  Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}\r\n\r\n`),
  Buffer.alloc(3_000, 9),
]);
const BODY = form([
  { name: 'image', value: IMAGE, filename: 'cat.png' },
  { name: 'type', value: 'input' },
  { name: 'subfolder', value: 'pasted' },
  { name: 'overwrite', value: 'true' },
  { name: 'original_ref', value: '{"filename":"a.png","type":"output","subfolder":""}' },
  { name: 'other', value: 'ignored' },
]);

describe('guardUpload', () => {
  it.each([1, 7, 64, 1_000, 100_000])(
    'passes the body unchanged and reads its fields in %i-byte chunks',
    async (size) => {
      const { out, form: seen, error } = await through(BODY, size);
      expect(error).toBeUndefined();
      expect(out.equals(BODY)).toBe(true);
      expect(seen?.fileName).toBe('cat.png');
      expect(Object.fromEntries(seen?.fields ?? [])).toEqual({
        type: 'input',
        subfolder: 'pasted',
        overwrite: 'true',
        original_ref: '{"filename":"a.png","type":"output","subfolder":""}',
      });
    }
  );

  it('never lets the closing boundary through when it refuses', async () => {
    const { out, error } = await through(BODY, 64, true);
    expect(error).toBeInstanceOf(GateError);
    expect(out.length).toBeLessThan(BODY.length);
    expect(out.includes(Buffer.from(`--${BOUNDARY}--`))).toBe(false);
  });
});
