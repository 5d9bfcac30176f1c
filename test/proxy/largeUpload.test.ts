import { spawn, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, stopProcess, waitForLine } from '../helpers/cli.js';

const UPLOAD_BYTES = 300 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

let fake: ChildProcess;
let gate: ReturnType<typeof spawnCli>;
let gateUrl: string;
const dataDir = mkdtempSync(join(tmpdir(), 'comfygate-upload-'));

/** Resident memory of another process, from /proc. */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

beforeAll(async () => {
  // ComfyUI (the fake, with --max-upload-size 512), the gate and the client each run in their own
  // process, so the gate's memory is measured alone.
  const main = fileURLToPath(new URL('../fixtures/fakeComfyMain.ts', import.meta.url));
  fake = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--max-upload-mb', '512'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    fake.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    fake.once('exit', () => reject(new Error(`fake ComfyUI exited: ${out}`)));
  });
  gate = spawnCli(['serve', '--upstream', url, '--port', '0', '--auth', 'off', '--data-dir', dataDir]);
  gateUrl = (await waitForLine(gate, /^ComfyGate listening on /)).replace('ComfyGate listening on ', '').trim();
});

afterAll(async () => {
  await Promise.all([stopProcess(gate), stopProcess(fake)]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A multipart body generated on the fly: the client holds one chunk at a time. */
function multipartUpload(boundary: string, bytes: number, filename: string): Readable {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\n`
  );
  const tail = Buffer.from(
    `\r\n--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\ninput\r\n--${boundary}--\r\n`
  );
  let sent = 0;
  let stage: 'head' | 'body' | 'tail' | 'done' = 'head';
  return new Readable({
    read() {
      if (stage === 'head') {
        stage = 'body';
        this.push(head);
      } else if (stage === 'body') {
        const size = Math.min(CHUNK.length, bytes - sent);
        sent += size;
        if (sent >= bytes) stage = 'tail';
        this.push(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size));
      } else if (stage === 'tail') {
        stage = 'done';
        this.push(tail);
      } else {
        this.push(null);
      }
    },
  });
}

describe('large uploads', () => {
  it('streams a 300 MB upload to ComfyUI without buffering it (gate RSS growth < 64 MB)', async () => {
    const boundary = '----comfygate' + Date.now();
    const upload = (bytes: number, filename: string) =>
      request(`${gateUrl}/api/upload/image`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: multipartUpload(boundary, bytes, filename),
      });
    // A first, smaller transfer settles the heap and buffer pools at their working size; the growth
    // measured after it is what a 300 MB body adds, which buffering would make ~300 MB.
    const warmUp = await upload(32 * 1024 * 1024, 'warm-up.png');
    await warmUp.body.dump();
    const pid = gate.pid!;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 10);
    try {
      const res = await upload(UPLOAD_BYTES, 'huge.png');
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toMatchObject({ name: 'huge.png', type: 'input' });
    } finally {
      clearInterval(sampler);
    }
    const growthMb = (peak - baseline) / 1024 / 1024;
    expect(growthMb).toBeLessThan(64);

    // ComfyUI stored every byte: its /view answers with the full length.
    const view = await request(`${gateUrl}/api/view?filename=huge.png&type=input`, { method: 'HEAD' });
    expect(view.statusCode).toBe(200);
    expect(Number(view.headers['content-length'])).toBe(UPLOAD_BYTES);
    await view.body.dump();
  });
});
