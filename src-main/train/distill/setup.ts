/**
 * A training job's distillation, from its settings: the teachers prepared (and checked against the run's record
 * when it resumes: a teacher file that changed would not continue the same training), cached teachers' boxes
 * added to the sources, the graph spec and the hook, and what the run records and logs.
 */
import { StarlingError } from '../../errors.js';
import type { Source } from '../../inference/letterbox.js';
import { buildDetector } from '../../models/zoo.js';
import { Runner } from '../../runtime/session.js';
import type { RunSettings } from '../../settings/run-settings.js';
import type { ProjectStore } from '../../store/project.js';
import type { JobContext } from '../../util/job-context.js';
import { applyTeacherCache } from './cache.js';
import { distillerFor, type DistillGraphSpec } from './distiller.js';
import { DistillHook, distillGraphSpec } from './hook.js';
import { describeTeachers, prepareTeachers } from './teachers.js';

/** Which train images a distillation run takes (projectSources' `unlabeled`). */
export function distillImages(settings: RunSettings): 'none' | 'also' | 'only' {
  if (!settings.distill.teachers.length) return 'none';
  return ({ labeled: 'none', all: 'also', unlabeled: 'only' } as const)[settings.distill.data];
}

export interface Distillation {
  spec: DistillGraphSpec;
  hook: DistillHook;
  /** The run summary's `distill`. */
  record: { data: string; weight: number; teachers: ReturnType<typeof describeTeachers> };
}

export async function setupDistillation(
  store: ProjectStore,
  settings: RunSettings,
  train: Source[],
  ctx: JobContext,
  /** The teachers a resumed run recorded. */
  recorded?: { spec: string; sha256: string }[],
): Promise<Distillation | null> {
  if (!settings.distill.teachers.length) return null;
  const student = buildDetector(settings.model);
  const teachers = prepareTeachers(store, settings, student);
  for (const r of recorded ?? []) {
    const now = teachers.find((t) => t.spec === r.spec);
    if (now && now.sha256 !== r.sha256)
      throw new StarlingError(
        'CONFLICT',
        `teacher ${now.name} changed since this run started (sha256 ${r.sha256.slice(0, 12)} then, ${now.sha256.slice(0, 12)} now): resuming would not continue the same training; start a new run`,
      );
  }
  const classNames = store.classes.list().map((c) => c.name);
  for (const t of teachers)
    ctx.log?.(
      `teacher ${t.name} (${t.probe.family}, ${t.mode === 'dense' ? 'dense: its outputs match the student' : t.mode === 'cached' ? 'boxes, cached' : 'boxes'}) teaches ${t.owned.map((c) => classNames[c]).join(', ')}`,
    );
  const unlabeled = train.some((s) => s.labeled === false);
  if (!unlabeled && teachers.every((t) => t.mode !== 'dense'))
    ctx.log?.(
      'warning: box-level teachers teach images without labels only, and this run has none (distill data "labeled"): use "all" or "unlabeled"',
    );
  if (teachers.some((t) => t.mode === 'cached')) {
    const runner = new Runner({ device: settings.device });
    try {
      const n = await applyTeacherCache(store.root, teachers, train, { conf: settings.distill.conf, runner, ctx });
      if (n) ctx.log?.(`cached teacher boxes for ${n} images`);
    } finally {
      await runner.dispose();
    }
  }
  const spec = distillGraphSpec(teachers, { weight: settings.distill.weight, unlabeledImages: unlabeled });
  const hook = new DistillHook(teachers, spec, {
    nc: settings.model.nc,
    conf: settings.distill.conf,
    distiller: distillerFor(settings.model.head),
  });
  return {
    spec,
    hook,
    record: {
      data: settings.distill.data,
      weight: settings.distill.weight,
      teachers: describeTeachers(teachers, classNames),
    },
  };
}
