import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StarlingError, withProjectFile } from '../errors.js';
import { JobManager } from '../jobs/manager.js';
import { ProjectStore } from '../store/project.js';
import { settleInterruptedRuns } from '../train/run-owner.js';
import type { ApiEvent, ApiEventName, ApiEvents } from './contract.js';

export type EventListener = (e: ApiEvent) => void;

/** Where per-user state (recent projects) lives. STARLING_HOME overrides it (tests, portable installs). */
export function userDataDir(): string {
  if (process.env.STARLING_HOME) return process.env.STARLING_HOME;
  const base = process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  return path.join(base, 'starling');
}

const MAX_RECENT = 12;

/**
 * The backend state behind one window (Electron), one browser-mode server or one CLI command:
 * the open project, the job manager and the event fan-out. All transports share this one class.
 */
export class Session {
  private project: ProjectStore | null = null;
  readonly jobs = new JobManager((e) => withProjectFile(e, this.project?.file));
  private readonly listeners = new Set<EventListener>();

  constructor() {
    this.jobs.onEvent((event, job, line) =>
      event === 'job.log' ? this.emit('job.log', { id: job.id, kind: job.kind, line: line! }) : this.emit(event, job),
    );
  }

  onEvent(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  emit<E extends ApiEventName>(event: E, data: ApiEvents[E]): void {
    for (const l of this.listeners) {
      try {
        l({ event, data });
      } catch {
        // A broken listener (a closed socket) must not break the others.
      }
    }
  }

  get current(): ProjectStore | null {
    return this.project;
  }

  requireProject(): ProjectStore {
    if (!this.project) throw new StarlingError('NO_PROJECT', 'no project is open; open or create one first');
    return this.project;
  }

  open(p: string): ProjectStore {
    const store = ProjectStore.open(p);
    settleInterruptedRuns(store);
    this.setProject(store);
    return store;
  }

  create(p: string, name?: string): ProjectStore {
    const store = ProjectStore.create(p, name);
    this.setProject(store);
    return store;
  }

  /** Makes an already opened store the session's project. */
  adopt(store: ProjectStore): void {
    this.setProject(store);
  }

  close(): boolean {
    const had = !!this.project;
    this.project?.close();
    this.project = null;
    if (had) this.emit('project.changed', { what: 'closed' });
    return had;
  }

  async dispose(): Promise<void> {
    await this.jobs.shutdown();
    this.close();
  }

  private setProject(store: ProjectStore): void {
    if (this.project && this.project !== store) this.project.close();
    this.project = store;
    this.remember(store.file);
    this.emit('project.changed', { what: 'opened' });
  }

  // ---- recent projects --------------------------------------------------------------------------

  recent(): string[] {
    try {
      const list = JSON.parse(fs.readFileSync(path.join(userDataDir(), 'recent.json'), 'utf8')) as unknown;
      return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && fs.existsSync(p)) : [];
    } catch {
      return [];
    }
  }

  private remember(file: string): void {
    try {
      const dir = userDataDir();
      fs.mkdirSync(dir, { recursive: true });
      const list = [file, ...this.recent().filter((p) => p !== file)].slice(0, MAX_RECENT);
      const target = path.join(dir, 'recent.json');
      // A temp name of this process's own: two processes remembering at once never write one temp file.
      const tmp = `${target}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(list, null, 2));
      fs.renameSync(tmp, target);
    } catch {
      // Recent projects are a convenience; a read-only home must not stop the app.
    }
  }
}
