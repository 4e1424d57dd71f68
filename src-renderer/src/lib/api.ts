/**
 * The renderer's only way to the backend: a typed client over the shared API contract. In Electron it
 * talks to the preload bridge (IPC); in browser mode to the loopback server (HTTP + WebSocket).
 */
import type {
  ApiErrorBody,
  ApiEvent,
  ApiEventName,
  ApiEvents,
  ApiInput,
  ApiMethod,
  ApiOutput,
} from '../../../src-main/api/contract';

interface Bridge {
  call(method: string, input: unknown): Promise<unknown>;
  onEvent(listener: (e: unknown) => void): () => void;
  mediaBase: string;
  /** The desktop app's native file dialog (src-main/preload.ts). */
  pickPath?(o: { kind: 'file' | 'folder'; title?: string; save?: boolean }): Promise<string | null>;
  pickPaths?(o: { kind: 'file' | 'folder'; title?: string }): Promise<string[]>;
}

type Envelope = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

interface Transport {
  call(method: string, input: unknown): Promise<Envelope>;
  subscribe(listener: (e: ApiEvent) => void): void;
  mediaBase: string;
}

function bridgeTransport(bridge: Bridge): Transport {
  return {
    call: (m, i) => bridge.call(m, i) as Promise<Envelope>,
    subscribe: (l) => void bridge.onEvent((e) => l(e as ApiEvent)),
    mediaBase: bridge.mediaBase,
  };
}

function httpTransport(): Transport {
  const token = document.querySelector<HTMLMetaElement>('meta[name="starling-token"]')?.content ?? '';
  return {
    async call(method, input) {
      const res = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-starling-token': token },
        body: JSON.stringify(input ?? {}),
      });
      return (await res.json()) as Envelope;
    },
    subscribe(listener) {
      let retry = 500;
      const connect = () => {
        const ws = new WebSocket(`ws://${location.host}/events?token=${encodeURIComponent(token)}`);
        ws.onmessage = (m) => listener(JSON.parse(String(m.data)) as ApiEvent);
        ws.onopen = () => (retry = 500);
        // The server may restart (a new token then needs a new tokened URL); retry with backoff.
        ws.onclose = () => setTimeout(connect, (retry = Math.min(retry * 2, 10_000)));
      };
      connect();
    },
    mediaBase: '/media',
  };
}

type Listener<E extends ApiEventName> = (data: ApiEvents[E]) => void;

class ApiClient {
  private transport: Transport;
  private listeners = new Map<ApiEventName, Set<Listener<ApiEventName>>>();

  constructor() {
    const bridge = (globalThis as { starlingBridge?: Bridge }).starlingBridge;
    this.transport = bridge ? bridgeTransport(bridge) : httpTransport();
    this.transport.subscribe((e) => this.listeners.get(e.event)?.forEach((l) => l(e.data)));
  }

  /**
   * The native file dialog in the desktop app (null when cancelled); undefined in browser mode, where the path is
   * typed into a field and checked with files.stat.
   */
  get pickPath():
    ((o: { kind: 'file' | 'folder'; title?: string; save?: boolean }) => Promise<string | null>) | undefined {
    return (globalThis as { starlingBridge?: Bridge }).starlingBridge?.pickPath;
  }

  /** The native dialog picking several files or folders (empty when cancelled); undefined in browser mode. */
  get pickPaths(): ((o: { kind: 'file' | 'folder'; title?: string }) => Promise<string[]>) | undefined {
    return (globalThis as { starlingBridge?: Bridge }).starlingBridge?.pickPaths;
  }

  get mode(): 'electron' | 'browser' {
    return (globalThis as { starlingBridge?: Bridge }).starlingBridge ? 'electron' : 'browser';
  }

  async call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
    const env = await this.transport.call(method, input);
    if (!env.ok) throw new ApiError(env.error.code, env.error.message, env.error.details);
    return env.result as ApiOutput<M>;
  }

  on<E extends ApiEventName>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as Listener<ApiEventName>);
    this.listeners.set(event, set);
    return () => set.delete(listener as Listener<ApiEventName>);
  }

  /**
   * URL of an image or its thumbnail; the backend serves only images registered in the open project. With the
   * image's content hash as `version`, the URL names those bytes for good (ids repeat across projects), so it
   * can be cached; without it the browser revalidates every time.
   */
  mediaUrl(kind: 'image' | 'thumb', imageId: number, version?: string): string {
    return `${this.transport.mediaBase}/${kind}/${imageId}${version ? `?v=${encodeURIComponent(version)}` : ''}`;
  }
}

export const api = new ApiClient();
