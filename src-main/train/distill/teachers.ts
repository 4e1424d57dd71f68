/**
 * The teachers of a distillation run, ready to run: each named teacher resolved to an ONNX file with its probe, its
 * classes mapped onto the student's, the file's sha256 (recorded with the run, checked on resume), and how it
 * teaches:
 * - `dense`: its raw outputs line up with the student's (same layout family, input size and strides); the head's
 *   distiller (distill/<head>.ts) matches logits / maps;
 * - `boxes`: anything else Starling decodes (NMS outputs, RT-DETR, YOLOv5, another size): its boxes, scored,
 *   become soft targets through the student's own assigner, on images without labels;
 * - `cached`: `distill.cache`: its boxes on the un-augmented images, computed once and kept on disk.
 * A teacher is a registered one (`NAME`, `teacher:NAME`, `NAME:map.json` with a class map) or a run of the
 * project (`run:N[:best|last]`), exported at the student's input size with its box-distribution logits into
 * `<project>/cache/teachers/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inferenceModel } from '../../engine/export.js';
import { StarlingError } from '../../errors.js';
import type { Detector } from '../../models/detector.js';
import type { Detect } from '../../models/heads/detect.js';
import { loadWeights } from '../../models/weights.js';
import { buildDetector } from '../../models/zoo.js';
import { classMapSchema, type TeacherProbe } from '../../settings/teacher-config.js';
import { RUN_REF, type RunSettings } from '../../settings/run-settings.js';
import type { ProjectStore } from '../../store/project.js';
import { classMapping } from '../../inference/class-map.js';
import { sha256Of, writeFileAtomic } from '../../util/files.js';
import { distillerFor } from './distiller.js';

export type TeachMode = 'dense' | 'boxes' | 'cached';

export interface DistillTeacher {
  /** As the settings name it. */
  spec: string;
  name: string;
  /** The run it is, for `run:N`. */
  run?: number;
  /** The ONNX file that runs. */
  file: string;
  /** sha256 of what it was made from: the ONNX file, or a run's checkpoint. */
  sha256: string;
  probe: TeacherProbe;
  /** Teacher class index -> student class index, or null (not taught). */
  toStudent: (number | null)[];
  /** Student classes it teaches. */
  owned: number[];
  mode: TeachMode;
  /** A Starling teacher gives its box-distribution logits too (output `dfl`). */
  dfl: boolean;
}

/** A run of the project as a teacher: its checkpoint exported at the student's input size. */
function runTeacher(
  store: ProjectStore,
  id: number,
  pick: 'best' | 'last',
  imgsz: number,
  outDir: string,
  write: boolean,
) {
  const run = store.runs.get(id);
  const checkpoint = run.artifacts[pick];
  if (!checkpoint || !fs.existsSync(checkpoint))
    throw new StarlingError('INVALID_INPUT', `teacher run:${id} has no ${pick} checkpoint yet (${run.status})`);
  const model = buildDetector(run.settings.model);
  const head = run.settings.model.head;
  if (head === 'yolov5')
    throw new StarlingError(
      'INVALID_INPUT',
      `teacher run:${id} has a yolov5 head: distilling from it is not built. Export it and add the ONNX as a ` +
        'teacher to pseudo-label with it',
    );
  if (head !== 'yolo' && head !== 'centernet')
    throw new StarlingError('INVALID_INPUT', `teacher run:${id} has head '${head}', which detects nothing`);
  const file = path.join(outDir, `run-${id}-${pick}-${imgsz}.onnx`);
  if (write) {
    loadWeights(model, checkpoint);
    const { bytes } = inferenceModel(model, {
      input: { name: 'images', shape: [1, 3, imgsz, imgsz] },
      outputs: (x) =>
        head === 'yolo'
          ? (model.head as Detect).distillOutputs(model.features(x))
          : model.head.outputs(model.features(x), 'raw'),
    });
    writeFileAtomic(file, (fd) => fs.writeSync(fd, bytes));
  }
  const strides = model.outputStrides;
  const nc = run.settings.model.nc;
  const anchors = strides.reduce((n, s) => n + (imgsz / s) ** 2, 0);
  const outputs: Record<string, number[]> =
    head === 'yolo'
      ? { output0: [1, 4 + nc, anchors], dfl: [1, 64, anchors] }
      : { cls: [1, nc, imgsz / 4, imgsz / 4], reg: [1, 2, imgsz / 4, imgsz / 4], wh: [1, 2, imgsz / 4, imgsz / 4] };
  const probe: TeacherProbe = {
    file,
    family: head === 'yolo' ? 'ultralytics-raw' : 'centernet',
    detected: false,
    inputName: 'images',
    imgsz,
    dynamicBatch: true,
    names: store.classes.list().map((c) => c.name),
    outputs,
    metadata: {},
  };
  return { file, sha256: sha256Of(checkpoint), probe, dfl: head === 'yolo' };
}

/** A registered teacher, with its class map (or one given as `NAME:map.json`). */
function registeredTeacher(store: ProjectStore, spec: string) {
  const bare = spec.replace(/^teacher:/, '');
  const colon = bare.indexOf(':');
  const name = colon < 0 ? bare : bare.slice(0, colon);
  const mapFile = colon < 0 ? null : bare.slice(colon + 1);
  const t = store.teachers.list().find((x) => x.name === name);
  if (!t) {
    const known = store.teachers.list().map((x) => x.name);
    throw new StarlingError(
      'NOT_FOUND',
      `no teacher named "${name}" is registered${known.length ? ` (registered: ${known.join(', ')})` : ''}; register one in the Teachers view or with \`starling teachers add\`, or name a run as run:N`,
    );
  }
  let classMap = t.config.classMap;
  if (mapFile) {
    const file = path.resolve(store.root, mapFile);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new StarlingError('INVALID_INPUT', `${file}: cannot read the class map (${(e as Error).message})`);
    }
    const r = classMapSchema.safeParse(parsed);
    if (!r.success)
      throw new StarlingError('INVALID_INPUT', `${file}: a class map is {"teacher class": "project class" | null}`);
    classMap = r.data;
  }
  if (!fs.existsSync(t.config.file))
    throw new StarlingError('NOT_FOUND', `teacher ${name}: its file ${t.config.file} is gone`);
  return { name, file: t.config.file, sha256: sha256Of(t.config.file), probe: t.config, classMap };
}

export function prepareTeachers(
  store: ProjectStore,
  settings: RunSettings,
  student: Detector,
  /** False: only say what each teacher would do (the Train view's preview), nothing exported. */
  write = true,
): DistillTeacher[] {
  const outDir = path.join(store.root, 'cache', 'teachers');
  const imgsz = settings.data.imgsz;
  const classes = store.classes.list();
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const distiller = distillerFor(settings.model.head);
  return settings.distill.teachers.map((spec): DistillTeacher => {
    const m = RUN_REF.exec(spec.trim());
    const t = m
      ? {
          name: `run ${m[1]}`,
          run: Number(m[1]),
          classMap: {} as Record<string, string | null>,
          ...runTeacher(store, Number(m[1]), (m[2] ?? 'best') as 'best' | 'last', imgsz, outDir, write),
        }
      : { ...registeredTeacher(store, spec), dfl: false };
    const toStudent = classMapping(t.probe.names, t.classMap, classes).map((id) =>
      id === null ? null : (index.get(id) ?? null),
    );
    const owned = [...new Set(toStudent.filter((c): c is number => c !== null))].sort((a, b) => a - b);
    if (!owned.length)
      throw new StarlingError(
        'INVALID_INPUT',
        `teacher ${t.name} teaches none of the project's classes (it has ${t.probe.names.slice(0, 8).join(', ')}): give it a class map`,
      );
    const mode: TeachMode = settings.distill.cache
      ? 'cached'
      : distiller?.aligned(t.probe, student, imgsz)
        ? 'dense'
        : 'boxes';
    return {
      spec,
      name: t.name,
      ...('run' in t && t.run !== undefined ? { run: t.run } : {}),
      file: t.file,
      sha256: t.sha256,
      probe: t.probe,
      toStudent,
      owned,
      mode,
      dfl: mode === 'dense' && t.dfl,
    };
  });
}

/** The teachers as a run records them. */
export function describeTeachers(teachers: DistillTeacher[], classNames: string[]) {
  return teachers.map((t) => ({
    spec: t.spec,
    name: t.name,
    ...(t.run !== undefined ? { run: t.run } : {}),
    file: t.file,
    sha256: t.sha256,
    family: t.probe.family,
    mode: t.mode,
    classes: t.owned.map((c) => classNames[c]!),
  }));
}
