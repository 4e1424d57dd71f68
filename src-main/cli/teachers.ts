/**
 * CLI for teachers and pseudo-labels: `starling teachers list|add|update|remove`, `starling pseudo-label` and
 * `starling review`. Everything goes through the same API methods the UI uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { classMapSchema } from '../settings/teacher-config.js';
import { call } from '../api/dispatch.js';
import type { Session } from '../api/session.js';
import { StarlingError } from '../errors.js';
import type { TeacherRecord } from '../store/types.js';
import { layoutNames, layouts, type Layout } from '../inference/decode.js';
import type { PseudoLabelResult } from '../teachers/pseudo-label.js';
import type { PseudoLabelQuality } from '../teachers/quality.js';
import { follow } from './follow.js';
import { readJsonFile } from './read-json.js';
import { withProject } from './with-session.js';

/** A class map file: {"teacher class": "project class" | null}. */
function readClassMap(file: string): Record<string, string | null> {
  const parsed = classMapSchema.safeParse(readJsonFile<unknown>(file));
  if (!parsed.success)
    throw new StarlingError(
      'INVALID_INPUT',
      `${file}: a class map is a JSON object of "teacher class": "project class" or null (${parsed.error.issues[0]?.message})`,
    );
  return parsed.data;
}

/** `--names a,b,c` or a file with one name per line. */
function readNames(v: string): string[] {
  const list = fs.existsSync(v) ? fs.readFileSync(v, 'utf8').split(/\r?\n/) : v.split(',');
  return list.map((n) => n.trim()).filter(Boolean);
}

function describe(t: TeacherRecord): string {
  const c = t.config;
  const names = c.names;
  const mapped = Object.entries(c.classMap)
    .map(([a, b]) => `${a}->${b ?? 'ignored'}`)
    .join(', ');
  return (
    `${String(t.id).padStart(3)}  ${t.name.padEnd(20)} ${(t.family ?? '?').padEnd(16)} imgsz ${c.imgsz}  ` +
    `${names.length} classes  weight ${c.weight}${c.tta ? '  tta' : ''}\n       ${t.path}` +
    (mapped ? `\n       map: ${mapped}` : '')
  );
}

/** Registered teacher by id or name, or a model file registered on the fly (`file.onnx[:map.json]`). */
async function resolveTeacher(s: Session, spec: string, tta?: boolean): Promise<TeacherRecord> {
  const known = await call(s, 'teachers.list', {});
  const byName = known.find((t) => t.name === spec || String(t.id) === spec);
  if (byName) return byName;
  const m = /^(.*?\.onnx)(?::(.+))?$/i.exec(spec);
  if (!m) throw new StarlingError('NOT_FOUND', `no teacher named "${spec}" and not an .onnx file`);
  const file = path.resolve(m[1]!);
  const classMap = m[2] ? readClassMap(m[2]) : undefined;
  const existing = known.find((t) => t.path === file);
  if (existing) {
    return classMap ? call(s, 'teachers.update', { id: existing.id, classMap }) : existing;
  }
  let name = path
    .basename(file, path.extname(file))
    .replace(/[^\w.-]/g, '_')
    .slice(0, 60);
  while (known.some((t) => t.name === name)) name += '_';
  const t = await call(s, 'teachers.add', {
    path: file,
    name,
    ...(classMap ? { classMap } : {}),
    ...(tta !== undefined ? { tta } : {}),
  });
  process.stdout.write(
    `registered teacher ${t.name}: ${layouts().find((l) => l.name === t.family)?.families ?? t.family}\n`,
  );
  return t;
}

const familyOption = () =>
  new Option('--family <family>', 'override the detected output family').choices(layoutNames());

export function addTeacherCommands(program: Command): void {
  const teachers = program.command('teachers').description('register detector ONNX files as teachers');

  teachers
    .command('list')
    .argument('<project>', 'project folder or .starling file')
    .action((project: string) =>
      withProject(project, async (s) => {
        const list = await call(s, 'teachers.list', {});
        if (!list.length) process.stdout.write('no teachers registered\n');
        for (const t of list) process.stdout.write(describe(t) + '\n');
      }),
    );

  teachers
    .command('add')
    .description('inspect an ONNX detector, detect its family and register it')
    .argument('<project>', 'project folder or .starling file')
    .argument('<model>', 'an .onnx file')
    .option('--name <name>', 'teacher name (default: the file name)')
    .addOption(familyOption())
    .option('--names <list>', 'class names when the model has no metadata: a,b,c or a file with one per line')
    .option('--imgsz <n>', 'input size for models with a dynamic input', Number)
    .option('--map <file>', 'class map JSON: {"teacher class": "project class" | null}')
    .option('--weight <x>', 'weight in weighted boxes fusion', Number)
    .option('--tta', 'also run on the flipped image')
    .action(
      (
        project: string,
        model: string,
        o: {
          name?: string;
          family?: Layout;
          names?: string;
          imgsz?: number;
          map?: string;
          weight?: number;
          tta?: boolean;
        },
      ) =>
        withProject(project, async (s) => {
          const t = await call(s, 'teachers.add', {
            path: model,
            ...(o.name ? { name: o.name } : {}),
            ...(o.family ? { family: o.family } : {}),
            ...(o.names ? { names: readNames(o.names) } : {}),
            ...(o.imgsz ? { imgsz: o.imgsz } : {}),
            ...(o.map ? { classMap: readClassMap(o.map) } : {}),
            ...(o.weight !== undefined ? { weight: o.weight } : {}),
            ...(o.tta ? { tta: true } : {}),
          });
          process.stdout.write(describe(t) + '\n');
        }),
    );

  teachers
    .command('update')
    .argument('<project>', 'project folder or .starling file')
    .argument('<teacher>', 'teacher name or id')
    .option('--map <file>', 'class map JSON')
    .option('--weight <x>', 'weight in weighted boxes fusion', Number)
    .option('--tta', 'run on the flipped image too')
    .option('--no-tta', 'do not')
    .action((project: string, name: string, o: { map?: string; weight?: number; tta?: boolean }) =>
      withProject(project, async (s) => {
        const t = await resolveTeacher(s, name);
        const u = await call(s, 'teachers.update', {
          id: t.id,
          ...(o.map ? { classMap: readClassMap(o.map) } : {}),
          ...(o.weight !== undefined ? { weight: o.weight } : {}),
          ...(o.tta !== undefined ? { tta: o.tta } : {}),
        });
        process.stdout.write(describe(u) + '\n');
      }),
    );

  teachers
    .command('remove')
    .argument('<project>', 'project folder or .starling file')
    .argument('<teacher>', 'teacher name or id')
    .action((project: string, name: string) =>
      withProject(project, async (s) => {
        const t = await resolveTeacher(s, name);
        await call(s, 'teachers.remove', { id: t.id });
        process.stdout.write(`removed teacher ${t.name} (its pseudo-labels stay)\n`);
      }),
    );

  program
    .command('pseudo-label')
    .description("label the project's images with teachers as pending boxes for review")
    .argument('<project>', 'project folder or .starling file')
    .requiredOption(
      '--teacher <spec>',
      'a registered teacher (name or id) or model.onnx[:map.json]; repeat for several',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--conf <x>', 'keep boxes scoring at least this', Number, 0.25)
    .option('--iou <x>', 'IoU for NMS and fusion', Number, 0.6)
    .addOption(new Option('--fuse <method>', 'merge teachers by').choices(['wbf', 'nms']).default('wbf'))
    .addOption(new Option('--only <which>', 'images to label').choices(['unlabeled', 'all']).default('unlabeled'))
    .option('--tta', 'test-time flip for every teacher')
    .option('--batch <n>', 'images per inference batch', Number, 8)
    .action(
      (
        project: string,
        o: {
          teacher: string[];
          conf: number;
          iou: number;
          fuse: 'wbf' | 'nms';
          only: 'unlabeled' | 'all';
          tta?: boolean;
          batch: number;
        },
      ) =>
        withProject(project, async (s) => {
          const ids: number[] = [];
          for (const spec of o.teacher) ids.push((await resolveTeacher(s, spec)).id);
          const { jobId } = await call(s, 'pseudo.start', {
            teachers: ids,
            conf: o.conf,
            iou: o.iou,
            fuse: o.fuse,
            only: o.only,
            batch: o.batch,
            ...(o.tta ? { tta: true } : {}),
          });
          const stop = () => void s.jobs.cancel(jobId);
          process.once('SIGINT', stop);
          const r = (await follow(s, jobId)).result as PseudoLabelResult;
          process.off('SIGINT', stop);
          process.stdout.write(
            `labeled ${r.images} images with ${r.boxes} pending boxes in ${r.seconds.toFixed(1)} s ` +
              `(${r.imagesPerSecond.toFixed(1)} images/s)` +
              (r.resumed ? `; ${r.resumed} images were done by an earlier run and skipped` : '') +
              '\n',
          );
          for (const e of r.skipped) process.stderr.write(`  skipped: ${e.problem}\n`);
          const d = r.dropped;
          if (d.unknownClass + d.badBox)
            process.stderr.write(
              `warning: dropped ${d.unknownClass + d.badBox} impossible teacher detection(s): ${d.unknownClass} with a class id ` +
                `the teacher does not have, ${d.badBox} with no size or nothing inside the image\n`,
            );
          const q = await call(s, 'review.quality', {});
          if (q) printQuality(q);
        }),
    );

  program
    .command('review')
    .description('accept, reject or reopen pending pseudo-labels in bulk (by class and score)')
    .argument('<project>', 'project folder or .starling file')
    .option('--accept', 'accept matching pending boxes')
    .option('--reject', 'reject matching pending boxes')
    .option('--reopen', 'put matching reviewed teacher boxes back to pending')
    .option('--class <name>', 'only this class')
    .option('--min-score <x>', 'only boxes scoring at least this', Number)
    .option('--max-score <x>', 'only boxes scoring below this', Number)
    .option('--image <id>', 'only this image id', Number)
    .option(
      '--done',
      'also mark done the images this leaves with nothing pending (their labels are complete: they train)',
    )
    .action(
      (
        project: string,
        o: {
          done?: boolean;
          accept?: boolean;
          reject?: boolean;
          reopen?: boolean;
          class?: string;
          minScore?: number;
          maxScore?: number;
          image?: number;
        },
      ) =>
        withProject(project, async (s) => {
          const actions = [o.accept, o.reject, o.reopen].filter(Boolean).length;
          if (actions !== 1)
            throw new StarlingError('INVALID_INPUT', 'give exactly one of --accept, --reject, --reopen');
          let classId: number | undefined;
          if (o.class) {
            const info = await call(s, 'project.current', {});
            const c = info?.classes.find((k) => k.name === o.class);
            if (!c) throw new StarlingError('NOT_FOUND', `no class named "${o.class}"`);
            classId = c.id;
          }
          if (o.done && o.reopen) throw new StarlingError('INVALID_INPUT', '--done goes with --accept or --reject');
          const { changed, doneImages } = await call(s, 'review.set', {
            state: o.accept ? 'accepted' : o.reject ? 'rejected' : 'pending',
            done: !!o.done,
            ...(classId !== undefined ? { classId } : {}),
            ...(o.minScore !== undefined ? { minScore: o.minScore } : {}),
            ...(o.maxScore !== undefined ? { maxScore: o.maxScore } : {}),
            ...(o.image !== undefined ? { imageId: o.image } : {}),
          });
          const c = await call(s, 'review.counts', {});
          process.stdout.write(
            `${changed} box(es) changed; teacher boxes now pending ${c.pending}, accepted ${c.accepted}, rejected ${c.rejected}\n` +
              (o.done
                ? `${doneImages} image(s) marked done\n`
                : o.reopen
                  ? ''
                  : 'no image is marked done by deciding boxes: --done marks those left with nothing pending, or mark them in the annotator\n'),
          );
        }),
    );
}

export function printQuality(q: PseudoLabelQuality, out: NodeJS.WritableStream = process.stdout): void {
  out.write(
    `pseudo-labels vs hidden ground truth (${q.groundTruth}): ${q.boxes} boxes on ${q.images} images, ` +
      `${q.truths} true objects; AP50 ${q.ap50.toFixed(3)}, AP50-95 ${q.ap.toFixed(3)}\n`,
  );
  out.write(`  ${'score >='.padEnd(9)} ${'boxes'.padStart(6)} ${'precision'.padStart(9)} ${'recall'.padStart(7)}\n`);
  for (const t of q.thresholds)
    out.write(
      `  ${t.score.toFixed(2).padEnd(9)} ${String(t.boxes).padStart(6)} ${t.precision.toFixed(3).padStart(9)} ${t.recall.toFixed(3).padStart(7)}\n`,
    );
}
