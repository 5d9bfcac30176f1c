// Draws the tray and app icons from simple shapes and writes them as PNGs (a tiny encoder over
// node:zlib: no network, no native image library). Run `node scripts/generate-icons.js [outDir]`;
// the default writes electron/assets/, which is committed. test/electron/icons.test.ts checks
// that the committed files match what this script draws.
import { Buffer } from 'node:buffer';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const outDir = process.argv[2] ?? join(root, 'electron', 'assets');

// ---- PNG encoding ---------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** RGBA, 8 bits per channel, no interlace; each scanline with filter type 0. */
function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- Drawing --------------------------------------------------------------------------------

/**
 * A layer is `{ color: [r, g, b], inside(x, y) }` in unit coordinates (0..1 across the icon).
 * Each pixel is sampled 4×4 times; later layers paint over earlier ones.
 */
function render(size, layers) {
  const rgba = Buffer.alloc(size * size * 4);
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          const layer = layers.findLast((l) => l.inside(x, y));
          if (!layer) continue;
          r += layer.color[0];
          g += layer.color[1];
          b += layer.color[2];
          a += 1;
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        rgba[i] = Math.round(r / a);
        rgba[i + 1] = Math.round(g / a);
        rgba[i + 2] = Math.round(b / a);
      }
      rgba[i + 3] = Math.round((255 * a) / (samples * samples));
    }
  }
  return rgba;
}

const disc = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r, width) => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  return d <= r && d >= r - width;
};
const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const and = (a, b) => (x, y) => a(x, y) && b(x, y);
const or =
  (...shapes) =>
  (x, y) =>
    shapes.some((s) => s(x, y));
/** A bar from (x0, y0) to (x1, y1), `width` wide. */
const bar = (x0, y0, x1, y1, width) => (x, y) => {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= width / 2;
};
const roundedSquare = (inset, radius) => (x, y) => {
  const cx = Math.min(Math.max(x, inset + radius), 1 - inset - radius);
  const cy = Math.min(Math.max(y, inset + radius), 1 - inset - radius);
  return Math.hypot(x - cx, y - cy) <= radius;
};

const not = (a) => (x, y) => !a(x, y);
/** The app icon's keyhole, centred on (0.5, cy), `scale` times its size there. */
const keyhole = (cy, scale) =>
  or(disc(0.5, cy, 0.095 * scale), (x, y) => {
    const dy = (y - cy) / scale;
    return dy >= 0.02 && dy <= 0.22 && Math.abs(x - 0.5) / scale <= 0.03 + (dy - 0.02) * 0.2;
  });

/**
 * One glyph per tray state, told apart by shape as well as colour (macOS template images are
 * monochrome), drawn from the app icon's gate ring and keyhole: off = the ring open at the top (an
 * open gate), optional = the ring half filled, required = the ring filled with the keyhole cut out
 * (locked), unreachable = the ring struck through, paused = the ring with pause bars.
 */
const OUTER = ring(0.5, 0.5, 0.46, 0.13);
const TRAY_GLYPHS = {
  off: { color: [156, 163, 175], shape: and(OUTER, not(rect(0.36, 0, 0.64, 0.3))) },
  optional: { color: [245, 158, 11], shape: or(OUTER, and(disc(0.5, 0.5, 0.4), rect(0, 0, 0.5, 1))) },
  required: { color: [34, 197, 94], shape: and(disc(0.5, 0.5, 0.46), not(keyhole(0.42, 1.4))) },
  unreachable: { color: [239, 68, 68], shape: or(OUTER, bar(0.2, 0.8, 0.8, 0.2, 0.13)) },
  paused: { color: [59, 130, 246], shape: or(OUTER, rect(0.33, 0.3, 0.45, 0.7), rect(0.55, 0.3, 0.67, 0.7)) },
};

/** The app icon: a gate ring around a keyhole on a dark rounded square. */
const APP_ICON = [
  { color: [31, 41, 55], inside: roundedSquare(0.04, 0.18) },
  { color: [34, 197, 94], inside: ring(0.5, 0.5, 0.34, 0.07) },
  {
    color: [255, 255, 255],
    inside: keyhole(0.44, 1),
  },
];

// ---- Output ---------------------------------------------------------------------------------

function write(path, size, layers) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, encodePng(size, size, render(size, layers)));
}

const trayDir = join(outDir, 'tray');
for (const [state, glyph] of Object.entries(TRAY_GLYPHS)) {
  // Linux and Windows: coloured; Electron picks the @2x file on high-density screens.
  write(join(trayDir, `${state}.png`), 16, [{ color: glyph.color, inside: glyph.shape }]);
  write(join(trayDir, `${state}@2x.png`), 32, [{ color: glyph.color, inside: glyph.shape }]);
  // macOS: black with alpha; the "Template" suffix lets the menu bar tint it for light and dark.
  write(join(trayDir, `${state}Template.png`), 16, [{ color: [0, 0, 0], inside: glyph.shape }]);
  write(join(trayDir, `${state}Template@2x.png`), 32, [{ color: [0, 0, 0], inside: glyph.shape }]);
}
write(join(outDir, 'icon.png'), 512, APP_ICON);
console.log(`icons written to ${outDir}`);
