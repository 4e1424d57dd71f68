/**
 * Electron main process: the window, the media protocol and IPC wiring. Nothing else lives here:
 * every feature is in the API handlers, shared with browser mode and the CLI.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dispatch, toErrorBody } from './api/dispatch.js';
import { parseMediaPath, resolveMedia } from './api/media.js';
import { Session } from './api/session.js';

const MEDIA_SCHEME = 'starling-media';
protocol.registerSchemesAsPrivileged([
  {
    scheme: MEDIA_SCHEME,
    privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true, corsEnabled: true },
  },
]);

const session = new Session();

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'Starling',
    show: false,
    webPreferences: {
      preload: path.join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  // Links open in the user's browser, never inside the app; the app never navigates away.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  const off = session.onEvent((e) => {
    if (!win.isDestroyed()) win.webContents.send('starling:event', e);
  });
  win.on('closed', off);
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(path.join(import.meta.dirname, '../renderer/index.html'));
  return win;
}

void app.whenReady().then(() => {
  // Only images registered in the open project are served; the URL names an image id, never a path.
  protocol.handle(MEDIA_SCHEME, async (req) => {
    const url = new URL(req.url);
    const media = parseMediaPath(url.pathname);
    if (url.host !== 'media' || !media) return new Response('not found', { status: 404 });
    try {
      const { file, contentType } = await resolveMedia(session, media.kind, media.id);
      const res = await net.fetch(pathToFileURL(file).toString());
      // The renderer (a file: page) fetches thumbnails from this scheme: a cross-origin request.
      return new Response(res.body, {
        status: res.status,
        headers: { 'content-type': contentType, 'access-control-allow-origin': '*' },
      });
    } catch (e) {
      return new Response(toErrorBody(e).message, { status: 404 });
    }
  });
  ipcMain.handle('starling:api', async (_e, method: string, input: unknown) => {
    try {
      return { ok: true, result: await dispatch(session, method, input) };
    } catch (e) {
      return { ok: false, error: toErrorBody(e) };
    }
  });
  // The native file dialog for the renderer's path fields (browser mode types the path instead).
  ipcMain.handle(
    'starling:pick-path',
    async (
      e,
      o: { kind: 'file' | 'folder'; title?: string; save?: boolean; multiple?: boolean },
    ): Promise<string | string[] | null> => {
      const win = BrowserWindow.fromWebContents(e.sender) ?? undefined;
      if (o.save) {
        const r = win ? await dialog.showSaveDialog(win, { title: o.title }) : await dialog.showSaveDialog({});
        return r.canceled ? null : (r.filePath ?? null);
      }
      // Linux and Windows dialogs pick files or folders, not both: the renderer offers one button for each.
      const properties: ('openFile' | 'openDirectory' | 'multiSelections')[] = [
        o.kind === 'folder' ? 'openDirectory' : 'openFile',
        ...(o.multiple ? (['multiSelections'] as const) : []),
      ];
      const r = win
        ? await dialog.showOpenDialog(win, { title: o.title, properties })
        : await dialog.showOpenDialog({ properties });
      if (o.multiple) return r.canceled ? [] : r.filePaths;
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  );
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([{ role: 'fileMenu' }, { role: 'editMenu' }, { role: 'viewMenu' }, { role: 'windowMenu' }]),
  );
  const projectArg = process.argv.slice(1).find((a) => a.endsWith('.starling'));
  if (projectArg) session.open(projectArg);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  void session.dispose().then(() => {
    if (process.platform !== 'darwin') app.quit();
  });
});
