import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { call } from '../../src-main/api/dispatch.js';
import { Session } from '../../src-main/api/session.js';
import { startServer, type RunningServer } from '../../src-main/server.js';
import { tempDir, writeJpegs } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
let session: Session;
let server: RunningServer;

/** A raw request, so tests control every header (fetch would add its own Host). */
function request(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const api = (method: string, input: unknown, token = server.token) =>
  request(`/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-starling-token': token },
    body: JSON.stringify(input),
  });

beforeAll(async () => {
  tmp = tempDir();
  process.env.STARLING_HOME = `${tmp.dir}/home`;
  session = new Session();
  await call(session, 'project.create', { path: `${tmp.dir}/proj` });
  await writeJpegs(`${tmp.dir}/proj/images`, 3);
  const { jobId } = await call(session, 'images.add', { paths: [`${tmp.dir}/proj/images`] });
  expect((await session.jobs.wait(jobId)).status).toBe('done');
  server = await startServer({ session, rendererDir: `${tmp.dir}/no-renderer` });
});

afterAll(async () => {
  await server.close();
  await session.dispose();
  tmp.cleanup();
});

describe('browser-mode server', () => {
  it('listens on loopback only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers API calls that carry the token', async () => {
    const r = await api('images.list', { limit: 10 });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.ok).toBe(true);
    expect(body.result.total).toBe(3);
  });

  it('refuses API calls without the token or with a wrong one', async () => {
    expect((await api('images.list', {}, '')).status).toBe(401);
    expect((await api('images.list', {}, 'x'.repeat(server.token.length))).status).toBe(401);
    const viaCookieOnly = await request('/api/images.list', {
      method: 'POST',
      headers: { cookie: `starling_token=${server.token}` },
      body: '{}',
    });
    expect(viaCookieOnly.status).toBe(401); // cookies alone cannot call the API (no cross-site forgery)
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const r = await request('/api/images.list', {
      method: 'POST',
      headers: { host: `evil.example:${server.port}`, 'x-starling-token': server.token },
      body: '{}',
    });
    expect(r.status).toBe(403);
  });

  it('validates input at the boundary with a one-line reason', async () => {
    const r = await api('images.list', { limit: -5 });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.message).toMatch(/images\.list: .*limit/);
    const unknown = await api('no.such.method', {});
    expect(unknown.status).toBe(404);
    const badJson = await request('/api/images.list', {
      method: 'POST',
      headers: { 'x-starling-token': server.token },
      body: '{nope',
    });
    expect(JSON.parse(badJson.body).error.message).toMatch(/not valid JSON/);
  });

  it('sets a cookie from the tokened URL and then serves media only for registered images', async () => {
    const first = await request(`/?token=${server.token}`);
    expect(first.status).toBe(302);
    const cookie = first.headers['set-cookie']![0]!.split(';')[0]!;
    expect(first.headers['set-cookie']![0]).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await request('/?token=wrong')).status).toBe(401);

    const list = JSON.parse((await api('images.list', {})).body).result.items as { id: number }[];
    const thumb = await request(`/media/thumb/${list[0]!.id}`, { headers: { cookie } });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect((await request(`/media/image/${list[0]!.id}`)).status).toBe(401);
    expect((await request('/media/image/99999', { headers: { cookie } })).status).toBe(404);
    // Paths are never accepted, only ids.
    expect((await request('/media/image/..%2F..%2Fetc%2Fpasswd', { headers: { cookie } })).status).toBe(404);

    // A registered image replaced by a link to a file outside the project is not served, nor its thumbnail.
    const images = JSON.parse((await api('images.list', {})).body).result.items as { id: number; path: string }[];
    const victim = images[1]!;
    const file = path.join(`${tmp.dir}/proj`, victim.path);
    fs.writeFileSync(`${tmp.dir}/secret.txt`, 'root:x:0:0');
    fs.rmSync(file);
    fs.symlinkSync(`${tmp.dir}/secret.txt`, file);
    const leaked = await request(`/media/image/${victim.id}`, { headers: { cookie } });
    expect(leaked.status).toBe(403);
    expect(JSON.parse(leaked.body).error.message).toMatch(
      /is a link to .*secret\.txt, outside the project; not served/,
    );
    expect((await request(`/media/thumb/${victim.id}`, { headers: { cookie } })).status).toBe(403);
    // A link to another image inside the project is fine; a FIFO is refused without blocking.
    fs.rmSync(file);
    fs.symlinkSync(path.join(`${tmp.dir}/proj`, images[0]!.path), file);
    expect((await request(`/media/image/${victim.id}`, { headers: { cookie } })).status).toBe(200);
    fs.rmSync(file);
    spawnSync('mkfifo', [file]);
    const fifo = await request(`/media/image/${victim.id}`, { headers: { cookie } });
    expect(fifo.status).toBe(403);
    expect(JSON.parse(fifo.body).error.message).toMatch(/not a regular file: it is a FIFO/);
  });

  it('answers a malformed % escape with 400 and an oversized body with 413, never a reset or a 500', async () => {
    const first = await request(`/?token=${server.token}`);
    const cookie = first.headers['set-cookie']![0]!.split(';')[0]!;
    const bad = await request('/assets/%E0%A4%A.js', { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toMatch(/malformed % escape/);
    const big = await api('images.list', { filter: {}, pad: 'x'.repeat(50 * 2 ** 20) });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error.message).toMatch(/request body over the 16 MB limit of an API call/);
  });

  it('pushes job events over the WebSocket only with the token', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=bad`);
    await new Promise<void>((resolve) => refused.on('error', () => resolve()));

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`);
    await new Promise<void>((resolve) => ws.on('open', () => resolve()));
    const events: { event: string; data: { status: string } }[] = [];
    ws.on('message', (m) => events.push(JSON.parse(String(m))));
    await writeJpegs(`${tmp.dir}/proj/more`, 2);
    const r = JSON.parse((await api('images.add', { paths: [`${tmp.dir}/proj/more`] })).body);
    await session.jobs.wait(r.result.jobId);
    // Sent as the job ends; this client reads it on a later turn of the loop.
    await vi.waitFor(
      () => expect(events.some((e) => e.event === 'job.finished' && e.data.status === 'done')).toBe(true),
      {
        timeout: 5_000,
      },
    );
    ws.close();
  });
});
