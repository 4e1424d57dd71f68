/**
 * The preload exposes exactly one thing to the sandboxed renderer: a transport for the typed API
 * (call + events), the media URL scheme and the native file dialog. No Node, no Electron objects leak through.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const bridge = {
  call: (method: string, input: unknown): Promise<unknown> => ipcRenderer.invoke('starling:api', method, input),
  onEvent: (listener: (e: unknown) => void): (() => void) => {
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on('starling:event', wrapped);
    return () => ipcRenderer.removeListener('starling:event', wrapped);
  },
  mediaBase: 'starling-media://media',
  /** The native file dialog: a file or folder the user picks, or null when they cancel. */
  pickPath: (options: { kind: 'file' | 'folder'; title?: string; save?: boolean }): Promise<string | null> =>
    ipcRenderer.invoke('starling:pick-path', options),
  /** The native dialog with several files or folders picked at once; empty when they cancel. */
  pickPaths: (options: { kind: 'file' | 'folder'; title?: string }): Promise<string[]> =>
    ipcRenderer.invoke('starling:pick-path', { ...options, multiple: true }),
};

contextBridge.exposeInMainWorld('starlingBridge', bridge);
