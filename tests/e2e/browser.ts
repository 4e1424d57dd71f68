import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Session } from '../../src-main/api/session.js';
import type { RunningServer } from '../../src-main/server.js';

export const CHROMIUM = process.env.STARLING_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');

/** Debian's Chromium, headless, with the flags this closed-network machine needs. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set STARLING_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/** What an end-to-end test runs against: a served project in browser mode and Debian's Chromium. */
export interface E2E {
  tmp: { dir: string; cleanup: () => void };
  session: Session;
  server: RunningServer;
  browser: Browser;
}

/**
 * Starts a session with its own STARLING_HOME in a temporary folder, lets `prepare` create and fill the project,
 * then serves it and launches Chromium. Refuses to run against an unbuilt renderer.
 */
export async function startE2E(prepare: (session: E2E['session'], dir: string) => Promise<void>): Promise<E2E> {
  const { DEFAULT_RENDERER_DIR, startServer } = await import('../../src-main/server.js');
  const { Session } = await import('../../src-main/api/session.js');
  const { tempDir } = await import('../helpers.js');
  if (!fs.existsSync(`${DEFAULT_RENDERER_DIR}/index.html`)) {
    throw new Error(`the renderer is not built (${DEFAULT_RENDERER_DIR}); run \`npm run build\` before the e2e tests`);
  }
  const tmp = tempDir();
  process.env.STARLING_HOME = `${tmp.dir}/home`;
  const session = new Session();
  await prepare(session, tmp.dir);
  const server = await startServer({ session });
  const browser = await launchChromium();
  return { tmp, session, server, browser };
}

export async function stopE2E(e: E2E | undefined): Promise<void> {
  await e?.browser.close();
  await e?.server.close();
  await e?.session.dispose();
  e?.tmp.cleanup();
}
