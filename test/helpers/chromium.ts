import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

/** Debian's chromium-headless-shell (installed by .ci/run), else a chromium on the PATH. */
function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin')) {
    for (const name of ['chromium-headless-shell', 'chromium']) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(
    'chromium-headless-shell is not installed: apt-get install chromium-headless-shell (.ci/run does it)',
  );
}

export interface PageLoad<T> {
  /** console.error calls, uncaught exceptions and the browser's own error log entries. */
  errors: string[];
  /** Every URL the page asked for, the page itself included. */
  requests: string[];
  /** A PNG of the whole page. */
  screenshot: Buffer;
  /** What `expression` evaluated to in the page, after the load event. */
  value: T;
}

/** The protocol's events as far as this helper reads them (see chromedevtools.github.io/devtools-protocol). */
interface EventParams {
  request?: { url: string };
  type?: string;
  args?: Array<{ value?: unknown; description?: string }>;
  exceptionDetails?: { text: string };
  entry?: { level: string; text: string };
}
type Message = { id?: number; method?: string; params?: EventParams; result?: unknown; error?: unknown };
/** The results this helper reads. */
interface Results {
  targetId?: string;
  sessionId?: string;
  exceptionDetails?: unknown;
  result?: { value?: unknown };
  cssContentSize?: { width: number; height: number };
  data?: string;
}

/**
 * The DevTools protocol over --remote-debugging-pipe: JSON messages, NUL-terminated, written to the
 * browser's fd 3 and read from its fd 4 (no WebSocket needed, which Node 20 lacks).
 */
class DevTools {
  private next = 1;
  private buffer = '';
  private readonly waiting = new Map<number, { resolve: (value: Results) => void; reject: (error: Error) => void }>();
  private readonly listeners: Array<(message: Message) => void> = [];

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const message = JSON.parse(this.buffer.slice(0, end)) as Message;
        this.buffer = this.buffer.slice(end + 1);
        this.dispatch(message);
      }
    });
  }

  private dispatch(message: Message): void {
    const pending = message.id === undefined ? undefined : this.waiting.get(message.id);
    if (pending) {
      this.waiting.delete(message.id!);
      if (message.error) pending.reject(new Error(`DevTools: ${JSON.stringify(message.error)}`));
      else pending.resolve(message.result as Results);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Results> {
    const id = this.next++;
    this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return new Promise<Results>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  on(listener: (message: Message) => void): void {
    this.listeners.push(listener);
  }

  once(method: string): Promise<Message> {
    return new Promise((resolve) => this.on((message) => message.method === method && resolve(message)));
  }
}

function watch(devtools: DevTools, errors: string[], requests: string[]): void {
  devtools.on(({ method, params }) => {
    if (method === 'Network.requestWillBeSent') requests.push(params?.request?.url ?? '?');
    if (method === 'Runtime.consoleAPICalled' && params?.type === 'error')
      errors.push(
        `console.error: ${(params.args ?? []).map((a) => JSON.stringify(a.value ?? a.description)).join(' ')}`,
      );
    if (method === 'Runtime.exceptionThrown') errors.push(`exception: ${params?.exceptionDetails?.text}`);
    if (method === 'Log.entryAdded' && params?.entry?.level === 'error') errors.push(`log: ${params.entry.text}`);
  });
}

/** Opens `file` from the file system in headless Chromium, evaluates `expression` and screenshots the page. */
export async function loadPage<T>(file: string, expression: string, width = 1100, height = 900): Promise<PageLoad<T>> {
  // below the test run's temporary root (removed when the run ends), in case a helper outlives the browser
  const profile = mkdtempSync(join(process.env.RFE_TEST_TMP ?? tmpdir(), 'rfe-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-pipe'];
  const browser = spawn(chromiumPath(), [...args, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: the browser and its helper processes are stopped together
  });
  const devtools = new DevTools(browser.stdio[3] as Writable, browser.stdio[4] as Readable);
  const timer = setTimeout(() => browser.kill('SIGKILL'), 60_000);
  try {
    const { targetId } = await devtools.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await devtools.send('Target.attachToTarget', { targetId, flatten: true });
    const errors: string[] = [];
    const requests: string[] = [];
    watch(devtools, errors, requests);
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await devtools.send(`${domain}.enable`, {}, sessionId);
    const metrics = { width, height, deviceScaleFactor: 1, mobile: false };
    await devtools.send('Emulation.setDeviceMetricsOverride', metrics, sessionId);
    const loaded = devtools.once('Page.loadEventFired');
    await devtools.send('Page.navigate', { url: pathToFileURL(resolve(file)).href }, sessionId);
    await loaded;
    const evaluated = await devtools.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
    if (evaluated.exceptionDetails) throw new Error(`evaluate: ${JSON.stringify(evaluated.exceptionDetails)}`);
    const layout = await devtools.send('Page.getLayoutMetrics', {}, sessionId);
    const size = layout.cssContentSize ?? { width, height };
    const clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
    const shot = await devtools.send(
      'Page.captureScreenshot',
      { format: 'png', clip, captureBeyondViewport: true },
      sessionId,
    );
    await devtools.send('Browser.close').catch(() => undefined);
    return {
      errors,
      requests,
      screenshot: Buffer.from(shot.data ?? '', 'base64'),
      value: evaluated.result?.value as T,
    };
  } finally {
    clearTimeout(timer);
    if (browser.exitCode === null && browser.signalCode === null) {
      const exited = new Promise((resolve) => browser.once('exit', resolve));
      browser.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    try {
      process.kill(-browser.pid!, 'SIGKILL'); // helper processes still writing the profile
    } catch {
      // the group is gone already
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

export interface Png {
  width: number;
  height: number;
  /** RGB triples, row by row. */
  rgb: Uint8Array;
}

function unfilter(type: number, row: Uint8Array, previous: Uint8Array, bpp: number): void {
  for (let i = 0; i < row.length; i++) {
    const left = i >= bpp ? row[i - bpp]! : 0;
    const up = previous[i]!;
    const upLeft = i >= bpp ? previous[i - bpp]! : 0;
    const p = left + up - upLeft;
    const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
    const paeth = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
    const add = [0, left, up, (left + up) >> 1, paeth][type];
    if (add === undefined) throw new Error(`PNG filter type ${type}`);
    row[i] = (row[i]! + add) & 0xff;
  }
}

/** An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) as RGB pixels. */
export function decodePng(png: Buffer): Png {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let header: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR');
  const [width, height, depth, colour, interlace] = [
    header.readUInt32BE(0),
    header.readUInt32BE(4),
    header[8],
    header[9],
    header[12],
  ];
  if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`PNG kind ${depth}/${colour}`);
  const bpp = colour === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * bpp;
  const rgb = new Uint8Array(width * height * 3);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = Uint8Array.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    unfilter(raw[y * (stride + 1)]!, row, previous, bpp);
    for (let x = 0; x < width; x++) rgb.set(row.subarray(x * bpp, x * bpp + 3), (y * width + x) * 3);
    previous = row;
  }
  return { width, height, rgb };
}

/** Distinct colours and the share of pixels that are not white: a blank or failed render has 1 and 0. */
export function pixelStats(png: Png): { colours: number; inked: number } {
  const colours = new Set<number>();
  let inked = 0;
  for (let i = 0; i < png.rgb.length; i += 3) {
    const [r, g, b] = [png.rgb[i]!, png.rgb[i + 1]!, png.rgb[i + 2]!];
    colours.add((r << 16) | (g << 8) | b);
    if (r < 240 || g < 240 || b < 240) inked++;
  }
  return { colours: colours.size, inked: inked / (png.width * png.height) };
}
