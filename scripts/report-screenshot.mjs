// The README's picture of the HTML parity report: `node scripts/report-screenshot.mjs [bundle] [--out file.png]`.
// Without a bundle it exports the demo (scripts/demo-args.mjs) into a temporary directory first (~40 s; needs
// `npm run build`). chromium-headless-shell renders the top of parity-report.html; the PNG is re-encoded with a
// 256-colour palette (zlib level 9) and written only when it is under 150 kB (the README's budget).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import { demoArgs } from './demo-args.mjs';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const LIMIT = 150 * 1024;
const [width, height] = [1000, 1800];

function chunks(png) {
  const found = [];
  for (let offset = 8; offset < png.length;) {
    const length = png.readUInt32BE(offset);
    found.push({
      type: png.toString('latin1', offset + 4, offset + 8),
      body: png.subarray(offset + 8, offset + 8 + length),
    });
    offset += 12 + length;
  }
  return found;
}

/** 8-bit RGB(A), non-interlaced (what Chromium writes) -> RGB bytes. */
function decode(png) {
  const all = chunks(png);
  const header = all.find((c) => c.type === 'IHDR').body;
  const [w, h, bpp] = [header.readUInt32BE(0), header.readUInt32BE(4), header[9] === 6 ? 4 : 3];
  const raw = inflateSync(Buffer.concat(all.filter((c) => c.type === 'IDAT').map((c) => c.body)));
  const stride = w * bpp;
  const rgb = Buffer.alloc(w * h * 3);
  let previous = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const type = raw[y * (stride + 1)];
    const row = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const [a, b, c] = [i >= bpp ? row[i - bpp] : 0, previous[i], i >= bpp ? previous[i - bpp] : 0];
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      row[i] = (row[i] + [0, a, b, (a + b) >> 1, paeth][type]) & 0xff;
    }
    for (let x = 0; x < w; x++) row.copy(rgb, (y * w + x) * 3, x * bpp, x * bpp + 3);
    previous = row;
  }
  return { w, h, rgb };
}

/** The 256 most frequent colours (at 5 bits a channel); every pixel takes the nearest of them. */
function palettize({ w, h, rgb }) {
  const key = (i) => ((rgb[i] >> 3) << 10) | ((rgb[i + 1] >> 3) << 5) | (rgb[i + 2] >> 3);
  const counts = new Map();
  for (let i = 0; i < rgb.length; i += 3) counts.set(key(i), (counts.get(key(i)) ?? 0) + 1);
  const palette = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 256)
    .map(([k]) => k);
  const channels = (k) => [((k >> 10) & 31) * 8.226, ((k >> 5) & 31) * 8.226, (k & 31) * 8.226].map(Math.round);
  const colours = palette.map(channels);
  const nearest = new Map();
  const indexOf = (k) => {
    if (!nearest.has(k)) {
      const [r, g, b] = channels(k);
      let best = 0;
      let bestDistance = Infinity;
      colours.forEach(([pr, pg, pb], i) => {
        const distance = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
        if (distance < bestDistance) [best, bestDistance] = [i, distance];
      });
      nearest.set(k, best);
    }
    return nearest.get(k);
  };
  const rows = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows[y * (w + 1) + 1 + x] = indexOf(key((y * w + x) * 3));
  return { w, h, colours, rows };
}

function chunk(type, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

function crc32(bytes) {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function encodeIndexed({ w, h, colours, rows }) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 3, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from(colours.flat())),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = resolve(outAt >= 0 ? args.splice(outAt, 2)[1] : join(ROOT, 'docs', 'parity-report.png'));
const scratch = mkdtempSync(join(tmpdir(), 'rfe-screenshot-'));
try {
  let bundle = args[0] ? resolve(args[0]) : undefined;
  if (!bundle) {
    bundle = join(scratch, 'demo');
    console.log(`exporting the demo into ${bundle} ...`);
    execFileSync('node', [join(ROOT, 'dist', 'cli.js'), ...demoArgs(bundle), '--no-progress'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
  const shot = join(scratch, 'shot.png');
  const browser = ['--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--window-size=${width},${height}`];
  execFileSync(
    'chromium-headless-shell',
    [...browser, `--screenshot=${shot}`, pathToFileURL(join(bundle, 'parity-report.html')).href],
    {
      stdio: 'ignore',
    },
  );
  const png = encodeIndexed(palettize(decode(readFileSync(shot))));
  const kB = (png.length / 1024).toFixed(1);
  if (png.length >= LIMIT) {
    console.log(`the screenshot is ${kB} kB, not under ${LIMIT / 1024} kB: not written`);
    process.exitCode = 1;
  } else {
    writeFileSync(out, png);
    console.log(`wrote ${out} (${width}x${height}, ${kB} kB)`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
