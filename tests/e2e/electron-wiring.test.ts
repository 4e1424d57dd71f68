/**
 * The Electron build's wiring, without the Electron binary (it cannot be downloaded here): the built main
 * (`out/main/index.js`) runs against a recording stand-in for the `electron` module, the built preload
 * (`out/preload/index.cjs`) is evaluated with a stand-in `ipcRenderer` connected to the main's IPC handler, and
 * the built renderer runs in Debian's Chromium with that preload's bridge, as it would in the app's window.
 *
 * What this checks is ours: the scheme, the IPC channel names, the preload's bridge and its shape, the media
 * protocol handler, the window's files, and that the renderer runs on the bridge transport. What it cannot
 * check is Electron itself (sandbox, the real protocol and IPC implementations).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir, writeJpegs } from '../helpers.js';
import { launchChromium } from './browser.js';

type Handler = (...args: unknown[]) => unknown;

/** What the main process registered with Electron. */
const electron = vi.hoisted(() => {
  const rec = {
    schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
    ipc: new Map<string, (...args: unknown[]) => unknown>(),
    protocols: new Map<string, (req: Request) => Promise<Response>>(),
    windows: [] as { options: Record<string, unknown>; loaded: string[]; sent: [string, unknown][] }[],
    ready: null as null | (() => void),
    /** The native dialogs asked for, and what the stand-in user picks. */
    dialogs: [] as Record<string, unknown>[],
  };
  class BrowserWindow {
    rec = { options: {} as Record<string, unknown>, loaded: [] as string[], sent: [] as [string, unknown][] };
    webContents = {
      setWindowOpenHandler: () => {},
      on: () => {},
      send: (channel: string, payload: unknown) => this.rec.sent.push([channel, payload]),
    };
    constructor(options: Record<string, unknown>) {
      this.rec.options = options;
      rec.windows.push(this.rec);
    }
    once() {}
    on() {}
    isDestroyed() {
      return false;
    }
    loadFile(file: string) {
      this.rec.loaded.push(file);
      return Promise.resolve();
    }
    loadURL(url: string) {
      this.rec.loaded.push(url);
      return Promise.resolve();
    }
    static getAllWindows() {
      return rec.windows;
    }
    static fromWebContents() {
      return null;
    }
  }
  const module = {
    app: {
      whenReady: () => new Promise<void>((resolve) => (rec.ready = resolve)),
      on: () => {},
      quit: () => {},
    },
    BrowserWindow,
    ipcMain: { handle: (channel: string, fn: (...args: unknown[]) => unknown) => rec.ipc.set(channel, fn) },
    Menu: { setApplicationMenu: () => {}, buildFromTemplate: (t: unknown) => t },
    net: {
      // Electron's net.fetch of a file: URL, as the media handler uses it.
      fetch: async (url: string) => new Response(fs.readFileSync(new URL(url))),
    },
    protocol: {
      registerSchemesAsPrivileged: (s: { scheme: string; privileges: Record<string, boolean> }[]) =>
        rec.schemes.push(...s),
      handle: (scheme: string, fn: (req: Request) => Promise<Response>) => rec.protocols.set(scheme, fn),
    },
    shell: { openExternal: () => Promise.resolve() },
    dialog: {
      showOpenDialog: (o: Record<string, unknown>) => {
        rec.dialogs.push(o);
        return Promise.resolve({ canceled: false, filePaths: ['/picked/by/the/user'] });
      },
      showSaveDialog: () => Promise.resolve({ canceled: true, filePath: '' }),
    },
  };
  return { rec, module };
});
vi.mock('electron', () => electron.module);

const OUT = path.resolve('out');
const tmp = tempDir();
let browser: Browser;
let invoke: Handler;

beforeAll(async () => {
  for (const f of ['main/index.js', 'preload/index.cjs', 'renderer/index.html'])
    if (!fs.existsSync(path.join(OUT, f))) throw new Error(`out/${f} is missing: run \`npm run build\` first`);
  process.env.STARLING_HOME = `${tmp.dir}/home`;
  await import(path.join(OUT, 'main/index.js'));
  electron.rec.ready!();
  await vi.waitFor(() => expect(electron.rec.windows.length).toBe(1), { timeout: 10_000 });
  invoke = (method, input) => electron.rec.ipc.get('starling:api')!({}, method, input);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  tmp.cleanup();
});

/** The built preload, evaluated with an ipcRenderer that reaches the main's handler; returns what it exposed. */
function loadPreload(ipcRenderer: Record<string, Handler>): Record<string, unknown> {
  const exposed: Record<string, unknown> = {};
  const source = fs.readFileSync(path.join(OUT, 'preload/index.cjs'), 'utf8');
  const fakeRequire = (id: string) => {
    if (id !== 'electron') throw new Error(`the sandboxed preload may only require electron, not ${id}`);
    return { ipcRenderer, contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) } };
  };
  new Function('require', source)(fakeRequire);
  return exposed;
}

describe('the Electron build', () => {
  it('registers its media scheme, IPC channel and a sandboxed window on the built renderer and preload', () => {
    expect(electron.rec.schemes).toEqual([
      {
        scheme: 'starling-media',
        privileges: expect.objectContaining({ standard: true, supportFetchAPI: true, corsEnabled: true }),
      },
    ]);
    expect([...electron.rec.ipc.keys()]).toEqual(['starling:api', 'starling:pick-path']);
    expect([...electron.rec.protocols.keys()]).toEqual(['starling-media']);
    const win = electron.rec.windows[0]!;
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(fs.existsSync(prefs.preload as string)).toBe(true);
    expect(path.resolve(prefs.preload as string)).toBe(path.join(OUT, 'preload/index.cjs'));
    expect(win.loaded).toEqual([path.join(OUT, 'renderer/index.html')]);
  });

  it('serves the API over IPC through the preload bridge, events included, and media by image id only', async () => {
    const listeners: Handler[] = [];
    const exposed = loadPreload({
      invoke: (channel, method, input) => {
        if (channel === 'starling:pick-path') return electron.rec.ipc.get(channel)!({ sender: {} }, method);
        expect(channel).toBe('starling:api');
        return invoke(method, input);
      },
      on: (_channel, l) => void listeners.push(l as Handler),
      removeListener: () => {},
    });
    const bridge = exposed.starlingBridge as {
      call: (m: string, i: unknown) => Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>;
      mediaBase: string;
    };
    expect(Object.keys(exposed)).toEqual(['starlingBridge']);
    expect(bridge.mediaBase).toBe('starling-media://media');
    // The native file dialog, for the renderer's path fields.
    const pick = (exposed.starlingBridge as { pickPath: (o: unknown) => Promise<string | null> }).pickPath;
    expect(await pick({ kind: 'folder', title: 'Images folder' })).toBe('/picked/by/the/user');
    expect(electron.rec.dialogs.at(-1)).toMatchObject({ properties: ['openDirectory'] });
    // Several files at once (Add images): the same channel, with multiSelections, answers every path.
    const pickMany = (exposed.starlingBridge as { pickPaths: (o: unknown) => Promise<string[]> }).pickPaths;
    expect(await pickMany({ kind: 'file', title: 'Images' })).toEqual(['/picked/by/the/user']);
    expect(electron.rec.dialogs.at(-1)).toMatchObject({ properties: ['openFile', 'multiSelections'] });

    await writeJpegs(`${tmp.dir}/proj/images`, 3, { width: 64, height: 48 });
    expect((await bridge.call('project.create', { path: `${tmp.dir}/proj` })).ok).toBe(true);
    const added = (await bridge.call('images.add', { paths: [`${tmp.dir}/proj/images`] })) as {
      result: { jobId: string };
    };
    expect(added.result.jobId).toBeTruthy();
    // Job events go to the window through webContents.send('starling:event').
    await vi.waitFor(
      () =>
        expect(
          electron.rec.windows[0]!.sent.some(([c, e]) => c === 'starling:event' && /job/.test(JSON.stringify(e))),
        ).toBe(true),
      { timeout: 15_000, interval: 100 },
    );
    await vi.waitFor(
      async () => {
        const list = (await bridge.call('images.list', {})) as { result: { total: number } };
        expect(list.result.total).toBe(3);
      },
      { timeout: 15_000, interval: 100 },
    );
    const bad = await bridge.call('images.get', { id: 'x' });
    expect(bad.ok).toBe(false);

    const media = electron.rec.protocols.get('starling-media')!;
    const thumb = await media(new Request('starling-media://media/thumb/1'));
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(thumb.headers.get('access-control-allow-origin')).toBe('*');
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(bytes.subarray(8, 12).toString()).toBe('WEBP');
    expect((await media(new Request('starling-media://media/image/999'))).status).toBe(404);
    expect((await media(new Request('starling-media://media/../../etc/passwd'))).status).toBe(404);
  });

  it('runs the built renderer on the preload bridge: the gallery lists the project and follows its events', async () => {
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The window's files, served from out/renderer as the app would load them.
    await page.route('http://starling.app/**', (route) => {
      const rel = new URL(route.request().url()).pathname.replace(/^\/+/, '') || 'index.html';
      const file = path.join(OUT, 'renderer', rel);
      if (!file.startsWith(path.join(OUT, 'renderer')) || !fs.existsSync(file)) return route.fulfill({ status: 404 });
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
      return route.fulfill({ body: fs.readFileSync(file), contentType: type });
    });
    // The API channel to the dispatcher; the dialog channel to the main's handler (its dialog stubbed).
    await page.exposeFunction('__ipcInvoke', (channel: string, method: unknown, input: unknown) =>
      channel === 'starling:pick-path'
        ? electron.rec.ipc.get(channel)!({ sender: {} }, method)
        : invoke(method as string, input),
    );
    const preload = fs.readFileSync(path.join(OUT, 'preload/index.cjs'), 'utf8');
    await page.addInitScript(`(() => {
      const listeners = [];
      window.__ipcEmit = (payload) => listeners.forEach((l) => l({}, payload));
      const electron = {
        ipcRenderer: {
          invoke: (channel, method, input) => window.__ipcInvoke(channel, method, input),
          on: (channel, l) => listeners.push(l),
          removeListener: (channel, l) => listeners.splice(listeners.indexOf(l), 1),
        },
        contextBridge: { exposeInMainWorld: (k, v) => { window[k] = v; } },
      };
      new Function('require', ${JSON.stringify(preload)})(() => electron);
    })()`);
    await page.goto('http://starling.app/index.html#/gallery');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe('3 images');
    expect(await page.evaluate('typeof window.starlingBridge.call')).toBe('function');

    // Events: what the main sends to the window reaches the renderer through the preload's onEvent. Images
    // added behind the gallery's back (as an import job would) show up without a reload.
    const win = electron.rec.windows[0]!;
    const forwarded = win.sent.length;
    win.sent.push = (...items: [string, unknown][]) => {
      for (const [, payload] of items) page.evaluate(`window.__ipcEmit(${JSON.stringify(payload)})`).catch(() => {}); // the page may be gone
      return Array.prototype.push.apply(win.sent, items);
    };
    await writeJpegs(`${tmp.dir}/more`, 2, { width: 40, height: 30 });
    await invoke('images.add', { paths: [`${tmp.dir}/more`] });
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]'), { timeout: 15_000 }).toBe('5 images');
    expect(win.sent.length).toBeGreaterThan(forwarded);
    // Media URLs are the app's scheme, which only Electron serves (checked above through its handler).
    expect(await page.evaluate('window.starlingBridge.mediaBase')).toBe('starling-media://media');
    delete (win.sent as { push?: unknown }).push; // back to Array.prototype.push

    // Every view opens on the bridge. Photos come over starling-media://, which only Electron serves: the
    // annotator opens the image anyway (its boxes, A/D) and says it cannot show it.
    const first = ((await invoke('images.list', {})) as { result: { items: { id: number }[] } }).result.items[0]!.id;
    const views: [string, string][] = [
      [`annotate/${first}`, `[data-testid="annotator-canvas"][data-image="${first}"]`],
      ['review', '[data-testid="review-empty"]'],
      ['teachers', '[data-testid="teachers-view"]'],
      ['train', '[data-testid="train-card"]'],
      ['runs', '[data-testid="runs-view"]'],
      ['detections', '[data-testid="detections-view"]'],
      ['export', '[data-testid="export-view"]'],
      ['dataset', '[data-testid="dataset-view"]'],
      ['health', '[data-testid="health-summary"]'],
    ];
    for (const [hash, selector] of views) {
      await page.evaluate(`location.hash = '#/${hash}'`);
      await page.waitForSelector(selector, { timeout: 15_000 });
    }
    // The Dataset view offers the native dialogs here (not the browser's upload): Files… lists what was picked.
    await page.evaluate(`location.hash = '#/dataset'`);
    expect(await page.locator('[data-testid="add-images-upload"]').count()).toBe(0);
    await page.click('button:has-text("Files…")');
    await expect.poll(() => page.textContent('[data-testid="add-images-list"]')).toContain('/picked/by/the/user');
    expect(electron.rec.dialogs.at(-1)).toMatchObject({ properties: ['openFile', 'multiSelections'] });
    await page.evaluate(`location.hash = '#/annotate/${first}'`);
    await expect.poll(() => page.textContent('.error.overlay')).toMatch(/the image cannot be shown/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains from the bundle: its worker entries are emitted beside index.js and a job completes over IPC', async () => {
    for (const f of ['job-worker.js', 'loader-worker.js']) expect(fs.existsSync(path.join(OUT, 'main', f))).toBe(true);
    const cls = (await invoke('classes.create', { name: 'square' })) as { ok: boolean; result: { id: number } };
    const images = (await invoke('images.list', {})) as { result: { items: { id: number }[] } };
    for (const im of images.result.items)
      await invoke('annotations.edit', {
        imageId: im.id,
        ops: [{ op: 'create', classId: cls.result.id, x: 4, y: 4, w: 16, h: 12 }],
        label: 'draw',
      });
    const started = (await invoke('train.start', {
      model: { backbone: 'starnet_s050' },
      data: { imgsz: 32, batch: 2 },
      budget: { epochs: 1, valEvery: 5 },
      device: 'cpu',
    })) as { ok: boolean; result: { jobId: string }; error?: { message: string } };
    expect(started.error).toBeUndefined();
    await vi.waitFor(
      async () => {
        const job = (await invoke('jobs.get', { id: started.result.jobId })) as { result: { status: string } };
        expect(job.result.status).toBe('done');
      },
      { timeout: 120_000, interval: 200 },
    );
    const runs = (await invoke('runs.list', {})) as { result: { status: string }[] };
    expect(runs.result.map((r) => r.status)).toEqual(['done']);
  }, 180_000);
});
