import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch, toErrorBody } from './api/dispatch.js';
import { parseMediaPath, resolveMedia } from './api/media.js';
import type { Session } from './api/session.js';
import { StarlingError } from './errors.js';

/**
 * Browser mode: the renderer and the API over HTTP + WebSocket, bound to loopback only. Every request
 * needs the per-start random token: API calls in a header (so other sites cannot forge them), pages,
 * assets and images by an HttpOnly SameSite=Strict cookie set when the tokened URL is first opened.
 */

export interface ServerOptions {
  session: Session;
  port?: number;
  /** Folder of the built renderer (index.html + assets). */
  rendererDir?: string;
  /** Fixed token (tests); random otherwise. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open: carries the token once; the page then lives on the cookie. */
  openUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const DEFAULT_RENDERER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out/renderer');

const COOKIE = 'starling_token';
const MAX_BODY = 16 * 1024 * 1024;
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

function sameToken(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

function headerToken(req: http.IncomingMessage): string | undefined {
  const x = req.headers['x-starling-token'];
  if (typeof x === 'string') return x;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

const STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  FORMAT: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NO_PROJECT: 409,
  NOT_A_PROJECT: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_LARGE: 413,
  NOT_IMPLEMENTED: 501,
  CANCELLED: 409,
};

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(data);
}

/**
 * The request body, up to MAX_BODY bytes. A larger one is read to its end and thrown away (so the client gets the
 * answer, 413, instead of a reset connection) and refused.
 */
function readBody(req: http.IncomingMessage): Promise<string> {
  const tooLarge = () =>
    new StarlingError('TOO_LARGE', `request body over the ${MAX_BODY / 2 ** 20} MB limit of an API call: refused`);
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => (size > MAX_BODY ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { session } = opts;
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const rendererDir = opts.rendererDir ?? DEFAULT_RENDERER_DIR;
  let port = 0;

  // DNS-rebinding guard: only our own loopback names may address us.
  const hostOk = (req: http.IncomingMessage): boolean =>
    [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(req.headers.host ?? '');

  const serveStatic = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void => {
    // The request's path decodes (checked when it came in).
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname.slice(1));
    const file = path.resolve(rendererDir, rel);
    if (!file.startsWith(rendererDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      // Client-side routes fall back to the app; missing assets are 404.
      if (path.extname(rel))
        return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `${pathname} not found` } });
      return serveStatic(req, res, '/');
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (file.endsWith('index.html')) {
      const html = fs
        .readFileSync(file, 'utf8')
        .replace('<head>', `<head>\n    <meta name="starling-token" content="${token}" />`);
      res.writeHead(200, { ...headers, 'content-security-policy': CSP, 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    res.writeHead(200, { ...headers, 'cache-control': 'public, max-age=31536000, immutable' });
    fs.createReadStream(file).pipe(res);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      if (!hostOk(req))
        return sendJson(res, 403, { ok: false, error: { code: 'UNAUTHORIZED', message: 'bad Host header' } });
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      try {
        decodeURIComponent(url.pathname);
      } catch {
        return sendJson(res, 400, {
          ok: false,
          error: { code: 'INVALID_INPUT', message: `${url.pathname}: malformed % escape` },
        });
      }

      // First visit: the tokened URL sets the cookie and redirects to a clean URL (no token in history).
      const queryToken = url.searchParams.get('token') ?? undefined;
      if (req.method === 'GET' && queryToken !== undefined && !url.pathname.startsWith('/api/')) {
        if (!sameToken(queryToken, token))
          return sendJson(res, 401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'bad token' } });
        url.searchParams.delete('token');
        res.writeHead(302, {
          'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          location: url.pathname + url.search,
          'referrer-policy': 'no-referrer',
        });
        return res.end();
      }

      if (url.pathname.startsWith('/api/')) {
        if (!sameToken(headerToken(req), token)) {
          return sendJson(res, 401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'missing or bad token' } });
        }
        if (req.method !== 'POST')
          return sendJson(res, 405, { ok: false, error: { code: 'INVALID_INPUT', message: 'use POST' } });
        const method = url.pathname.slice('/api/'.length);
        try {
          const body = await readBody(req);
          let input: unknown = {};
          if (body.trim()) {
            try {
              input = JSON.parse(body);
            } catch {
              throw new StarlingError('INVALID_INPUT', 'request body is not valid JSON');
            }
          }
          const result = await dispatch(session, method, input);
          return sendJson(res, 200, { ok: true, result: result ?? null });
        } catch (e) {
          const error = toErrorBody(e);
          return sendJson(res, STATUS[error.code] ?? 500, { ok: false, error });
        }
      }

      if (!sameToken(cookieToken(req) ?? headerToken(req), token)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end('Starling: open the URL printed by `starling serve` (it carries the access token).');
      }

      if (url.pathname.startsWith('/media/')) {
        const media = parseMediaPath(url.pathname.slice('/media'.length));
        if (!media) return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'bad media path' } });
        try {
          const { file, contentType } = await resolveMedia(session, media.kind, media.id);
          res.writeHead(200, {
            'content-type': contentType,
            // A `v` (the content hash) pins the bytes; without it, ids repeat across projects: revalidate.
            'cache-control': url.searchParams.has('v') ? 'private, max-age=31536000, immutable' : 'no-cache',
            'x-content-type-options': 'nosniff',
          });
          fs.createReadStream(file).pipe(res);
        } catch (e) {
          const error = toErrorBody(e);
          sendJson(res, STATUS[error.code] ?? 500, { ok: false, error });
        }
        return;
      }

      if (req.method !== 'GET')
        return sendJson(res, 405, { ok: false, error: { code: 'INVALID_INPUT', message: 'use GET' } });
      if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`Starling: the renderer is not built (${rendererDir}). Run \`npm run build\` first.`);
      }
      serveStatic(req, res, url.pathname);
    })().catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: toErrorBody(e) });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  const unsubscribe = session.onEvent((e) => {
    const data = JSON.stringify(e);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(data);
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const origin = req.headers.origin;
    const originOk = !origin || [`http://127.0.0.1:${port}`, `http://localhost:${port}`].includes(origin);
    const authed = sameToken(url.searchParams.get('token') ?? cookieToken(req), token);
    if (url.pathname !== '/events' || !hostOk(req) || !originOk || !authed) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      port = (server.address() as { port: number }).port;
      const url = `http://127.0.0.1:${port}`;
      resolve({
        url,
        openUrl: `${url}/?token=${token}`,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            unsubscribe();
            for (const ws of sockets) ws.terminate();
            wss.close();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
