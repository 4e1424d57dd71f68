/**
 * Which process is training a run. A run's status says `running` until its job ends; when the app is killed
 * (a crash, power loss, `kill -9`) nothing writes the end, and the run would say `running` forever, never
 * offered for resume. So a running run records its process, and opening the project marks the runs whose
 * process is gone as failed: interrupted, resumable from their last checkpoint. Another live process (the app
 * training while the CLI opens the same project) is left alone, as is a run recorded on another machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import { StarlingError } from '../errors.js';
import type { ProjectStore } from '../store/project.js';
import type { RunRecord } from '../store/types.js';

export interface RunOwner {
  pid: number;
  host: string;
  /** When the run started in that process (ms since epoch): tells a reused pid from the same process. */
  since: number;
}

export const thisProcess = (): RunOwner => ({ pid: process.pid, host: os.hostname(), since: Date.now() });

const processStart = Date.now() - process.uptime() * 1000;

function isAlive(owner: RunOwner): boolean {
  // Started before this boot (a power loss): gone, whatever process holds that pid now.
  if (owner.since < Date.now() - os.uptime() * 1000) return false;
  // Our own pid: this process, unless the run started before it did (an earlier process given the same pid).
  if (owner.pid === process.pid) return owner.since >= processStart - 1000;
  try {
    process.kill(owner.pid, 0);
    return !isZombie(owner.pid);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * A process that has exited but not been reaped yet (Linux state Z) still answers `kill(pid, 0)`. A job process
 * whose app was killed with it is reaped by init, later, or never where init reaps nothing (some containers).
 */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z'; // the state follows the command name, which may hold ')'
  } catch {
    return false; // no /proc (macOS, Windows): as before, alive
  }
}

const ownerOf = (run: RunRecord) => (run.summary as { owner?: RunOwner } | null)?.owner;

/**
 * Refuses to train a run that a live process is training already (two processes would drive one run: each
 * overwrites the other's checkpoints and status). A run recorded on another machine counts as live: this one
 * cannot tell.
 */
export function assertNotTrainedElsewhere(run: RunRecord): void {
  if (run.status !== 'running') return;
  const owner = ownerOf(run);
  if (!owner) return;
  const here = owner.host === os.hostname();
  if (here && !isAlive(owner)) return;
  throw new StarlingError(
    'CONFLICT',
    `run ${run.id} is being trained by process ${owner.pid} on ${owner.host}` +
      (here ? '; stop it there (Ctrl+C or Cancel) before resuming' : '; resume it on that machine'),
  );
}

/** Marks the project's orphaned running runs failed; returns their ids. */
export function settleInterruptedRuns(store: ProjectStore): number[] {
  const settled: number[] = [];
  for (const run of store.runs.list()) {
    if (run.status !== 'running') continue;
    const owner = ownerOf(run);
    if (!owner || owner.host !== os.hostname() || isAlive(owner)) continue;
    // The rest of the summary stays: where the weights came from, the teachers, the sweep cell it is.
    const { owner: _owner, ...kept } = run.summary ?? {};
    store.runs.update(run.id, {
      status: 'failed',
      summary: {
        ...kept,
        error: `interrupted: the process training it (pid ${owner.pid}) stopped; resume it from its last epoch`,
      },
    });
    settled.push(run.id);
  }
  return settled;
}
