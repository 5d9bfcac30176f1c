import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TRAY_ICONS } from '../../electron/tray/trayAppearance.js';

const assets = fileURLToPath(new URL('../../electron/assets/', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/generate-icons.js', import.meta.url));

interface Png {
  width: number;
  height: number;
  colorType: number;
  /** RGBA, 4 bytes a pixel (8-bit RGBA files only). */
  pixels: Buffer;
}

/** Just enough PNG reading for the checks below: IHDR, then IDAT inflated and unfiltered. */
function readPng(file: string): Png {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let header: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  if (!header) throw new Error(`${file}: no IHDR`);
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const colorType = header[9] ?? -1;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x] ?? 0;
      const left = x >= 4 ? (pixels[y * stride + x - 4] ?? 0) : 0;
      const up = y > 0 ? (pixels[(y - 1) * stride + x] ?? 0) : 0;
      const upLeft = x >= 4 && y > 0 ? (pixels[(y - 1) * stride + x - 4] ?? 0) : 0;
      const paeth = (): number => {
        const p = left + up - upLeft;
        const [a, b, c] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        return a <= b && a <= c ? left : b <= c ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, paeth()][filter ?? 0] ?? 0;
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, colorType, pixels };
}

function opaquePixels(png: Png): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < png.pixels.length; i += 4) {
    if ((png.pixels[i + 3] ?? 0) > 0) out.push([png.pixels[i] ?? 0, png.pixels[i + 1] ?? 0, png.pixels[i + 2] ?? 0]);
  }
  return out;
}

/** Alpha (0..255) at a point given as a fraction of the icon's width and height. */
function alphaAt(png: Png, fx: number, fy: number): number {
  const x = Math.min(png.width - 1, Math.floor(fx * png.width));
  const y = Math.min(png.height - 1, Math.floor(fy * png.height));
  return png.pixels[(y * png.width + x) * 4 + 3] ?? 0;
}

/** Pixels that are clearly drawn in one image and clearly empty in the other. */
function shapeDifference(a: Png, b: Png): number {
  let differing = 0;
  for (let i = 3; i < a.pixels.length; i += 4) {
    if (Math.abs((a.pixels[i] ?? 0) - (b.pixels[i] ?? 0)) > 127) differing++;
  }
  return differing;
}

describe('icons', () => {
  it.each(TRAY_ICONS)('tray "%s" for Linux and Windows: 16×16 and 32×32 (@2x), RGBA', (state) => {
    for (const [file, size] of [
      [`${state}.png`, 16],
      [`${state}@2x.png`, 32],
    ] as const) {
      const png = readPng(join(assets, 'tray', file));
      expect([png.width, png.height, png.colorType]).toEqual([size, size, 6]);
      expect(opaquePixels(png).length).toBeGreaterThan(size * 2);
    }
  });

  it.each(TRAY_ICONS)('tray "%s" for macOS: 16×16 and 32×32 (@2x) template images, black with alpha', (state) => {
    for (const [file, size] of [
      [`${state}Template.png`, 16],
      [`${state}Template@2x.png`, 32],
    ] as const) {
      const png = readPng(join(assets, 'tray', file));
      expect([png.width, png.height, png.colorType]).toEqual([size, size, 6]);
      expect(opaquePixels(png).every(([r, g, b]) => r === 0 && g === 0 && b === 0)).toBe(true);
    }
  });

  it.each([16, 32])(
    'at %i px the five states differ in shape by at least a tenth of the icon, without colour',
    (size) => {
      const suffix = size === 32 ? 'Template@2x.png' : 'Template.png';
      const shapes = TRAY_ICONS.map((state) => ({ state, png: readPng(join(assets, 'tray', `${state}${suffix}`)) }));
      for (const [i, a] of shapes.entries()) {
        for (const b of shapes.slice(i + 1)) {
          expect(shapeDifference(a.png, b.png), `${a.state} vs ${b.state}`).toBeGreaterThanOrEqual((size * size) / 10);
        }
      }
    }
  );

  it("required is the app icon's gate closed: a filled disc with the app icon's keyhole cut out", () => {
    const app = readPng(join(assets, 'icon.png'));
    const required = readPng(join(assets, 'tray', 'requiredTemplate@2x.png'));
    // The keyhole's head and foot: white in the app icon, cut out of the tray glyph.
    for (const [fx, fy] of [
      [0.5, 0.44],
      [0.5, 0.6],
    ] as const) {
      expect(app.pixels[(Math.floor(fy * 512) * 512 + Math.floor(fx * 512)) * 4]).toBe(255);
      expect(alphaAt(required, fx, fy), `(${fx}, ${fy})`).toBe(0);
    }
    // Around the keyhole the disc is solid.
    for (const [fx, fy] of [
      [0.25, 0.5],
      [0.75, 0.5],
      [0.5, 0.2],
      [0.5, 0.85],
    ] as const) {
      expect(alphaAt(required, fx, fy), `(${fx}, ${fy})`).toBe(255);
    }
  });

  it('off is the ring open at the top; the other rings are closed there', () => {
    const top = (state: string): number => alphaAt(readPng(join(assets, 'tray', `${state}Template@2x.png`)), 0.5, 0.08);
    expect(top('off')).toBe(0);
    for (const state of TRAY_ICONS.filter((s) => s !== 'off')) expect(top(state), state).toBe(255);
  });

  it('the app icon is 512×512 (enough for the Linux icon set, Windows .ico and macOS .icns)', () => {
    const png = readPng(join(assets, 'icon.png'));
    expect([png.width, png.height]).toEqual([512, 512]);
  });

  it('the committed icons are exactly what scripts/generate-icons.js draws', async () => {
    const out = await mkdtemp(join(tmpdir(), 'comfygate-icons-'));
    try {
      await promisify(execFile)(process.execPath, [script, out]);
      const generated = [...(await readdir(join(out, 'tray'))).map((f) => `tray/${f}`), 'icon.png'].sort();
      const committed = [...(await readdir(join(assets, 'tray'))).map((f) => `tray/${f}`), 'icon.png'].sort();
      expect(generated).toEqual(committed);
      for (const file of generated) {
        expect((await readFile(join(out, file))).equals(await readFile(join(assets, file))), file).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
