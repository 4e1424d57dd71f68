import { formatNames } from '../formats/index.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { ExportResult, ImportResult } from '../api/contract.js';
import { call } from '../api/dispatch.js';
import type { Session } from '../api/session.js';
import { errorMessage } from '../errors.js';
import { formatItemError, type ItemError } from '../formats/dataset.js';
import { DEFAULT_RENDERER_DIR, startServer } from '../server.js';
import { STARLING_VERSION } from '../version.js';
import { printInfo } from './info.js';
import { formatCards } from './zoo.js';
import { cocoEvaluate, formatCocoStats, type CocoDet, type CocoGt } from '../eval/coco-eval.js';
import { readJsonFile } from './read-json.js';
import { cocoDetectionMetrics } from '../eval/metrics.js';
import { predict } from '../inference/predictor.js';
import { readConfigArg } from './config-arg.js';
import { addTrainFlags, settingsFromFlags } from './train-flags.js';
import { readExperimentFile, userPath } from './experiment-arg.js';
import { mergeSettings, parseAssignment } from '../settings/experiment-file.js';
import { headEntries, headNames } from '../models/zoo.js';
import { cocoStats } from '../eval/summary.js';
import { follow } from './follow.js';
import { withProject, withSession } from './with-session.js';
import { addTeacherCommands, printQuality } from './teachers.js';
import { runDemo } from './demo.js';
import { formatSizeHistogram, SIZE_MIXES, type SizeHistogram, type SizeMix } from '../sample/size-mix.js';
import { addMergeRunsCommand, addRunsCommand } from './runs.js';
import { addSweepCommand } from './sweep.js';

type Format = string;
type SplitName = 'train' | 'val' | 'test';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

function reportSkipped(skipped: ItemError[]): void {
  if (!skipped.length) return;
  process.stderr.write(`skipped ${skipped.length} bad item(s):\n`);
  for (const e of skipped) process.stderr.write(`  ${formatItemError(e)}\n`);
}

async function serve(session: Session, port: number): Promise<void> {
  const server = await startServer({ session, port });
  if (!fs.existsSync(path.join(DEFAULT_RENDERER_DIR, 'index.html'))) {
    process.stderr.write('warning: the renderer is not built; run `npm run build` for the UI (the API works)\n');
  }
  process.stdout.write(`Starling is serving on ${server.url} (loopback only)\nOpen: ${server.openUrl}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

export function buildProgram(): Command {
  const program = new Command('starling')
    .description('Starling: label, pseudo-label, train and export light object detectors')
    .version(STARLING_VERSION)
    .showHelpAfterError('(run with --help for usage)');
  const formatOption = () =>
    new Option('--format <format>', 'dataset format').choices(formatNames()).makeOptionMandatory();

  program
    .command('init')
    .description('create a new project (a project.starling file) in a folder')
    .argument('<dir>', 'project folder (created if missing)')
    .option('--name <name>', 'project name (default: the folder name)')
    .option('--classes <names>', 'comma-separated class names to create')
    .action((dir: string, o: { name?: string; classes?: string }) =>
      withSession(async (s) => {
        const p = await call(s, 'project.create', { path: dir, ...(o.name ? { name: o.name } : {}) });
        const names = (o.classes ?? '')
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
        for (const name of names) await call(s, 'classes.create', { name });
        process.stdout.write(`created ${p.file}\n`);
      }),
    );

  program
    .command('import')
    .description('import a labeled dataset (COCO JSON, YOLO txt + data.yaml, Pascal VOC XML) into a project')
    .argument('<project>', 'project folder or .starling file')
    .argument('<input>', 'COCO json file or folder, YOLO folder or data.yaml, VOC folder')
    .addOption(formatOption())
    .option('--images <dir>', 'COCO: the folder file_name paths are relative to (default: the json folder)')
    .addOption(new Option('--split <split>', 'split for inputs that do not name one').choices(['train', 'val', 'test']))
    .option('--skip-bad', 'import what is valid and report the rest (default: nothing is imported if anything is bad)')
    .option('--skip-existing', 'skip images already in the project instead of failing')
    .action(
      (
        project: string,
        input: string,
        o: { format: Format; images?: string; split?: SplitName; skipBad?: boolean; skipExisting?: boolean },
      ) =>
        withProject(project, async (s) => {
          const { jobId } = await call(s, 'dataset.import', {
            format: o.format,
            input,
            ...(o.images ? { imagesRoot: o.images } : {}),
            ...(o.split ? { split: o.split } : {}),
            skipBad: !!o.skipBad,
            existing: o.skipExisting ? 'skip' : 'error',
          });
          const r = (await follow(s, jobId)).result as ImportResult;
          const created = r.classesCreated.length ? `; new classes: ${r.classesCreated.join(', ')}` : '';
          process.stdout.write(`imported ${r.images} images, ${r.boxes} boxes${created}\n`);
          reportSkipped(r.skipped);
        }),
    );

  program
    .command('export-labels')
    .description("export the project's accepted labels as COCO, YOLO or VOC")
    .argument('<project>', 'project folder or .starling file')
    .addOption(formatOption())
    .requiredOption('--out <dir>', 'output folder')
    .addOption(
      new Option('--images <mode>', 'YOLO/VOC: place the images beside the labels by hard link, copy, or not at all')
        .choices(['link', 'copy', 'none'])
        .default('link'),
    )
    .addOption(
      new Option(
        '--unlabeled <mode>',
        'images not labeled yet or under review: skip them, or (YOLO) pool them in images/unlabeled/, outside the splits',
      )
        .choices(['skip', 'pool'])
        .default('skip'),
    )
    .action(
      (
        project: string,
        o: { format: Format; out: string; images: 'link' | 'copy' | 'none'; unlabeled: 'skip' | 'pool' },
      ) =>
        withProject(project, async (s) => {
          const { jobId } = await call(s, 'dataset.export', {
            format: o.format,
            outDir: o.out,
            images: o.images,
            unlabeled: o.unlabeled,
          });
          const r = (await follow(s, jobId)).result as ExportResult;
          process.stdout.write(
            `exported ${r.images} labeled images, ${r.boxes} boxes (${r.files} files) to ${r.outDir}\n`,
          );
          const n = r.notLabeled;
          if (n.unlabeled + n.underReview)
            process.stdout.write(
              `${n.pooled ? 'pooled apart (images/unlabeled, not a split)' : 'left out'}: ${n.unlabeled} images not labeled yet, ` +
                `${n.underReview} with boxes waiting for review${n.pooled ? '' : ' (--unlabeled pool keeps them apart, YOLO)'}\n`,
            );
        }),
    );

  program
    .command('info')
    .description('counts per class, split and review status; pseudo-label precision/recall where the truth is known')
    .argument('<project>', 'project folder or .starling file')
    .option('--json', 'print JSON')
    .action((project: string, o: { json?: boolean }) =>
      withProject(project, async (s) => {
        const summary = (await call(s, 'project.current', { perSplitClass: true }))!;
        const quality = await call(s, 'review.quality', {});
        if (o.json) process.stdout.write(JSON.stringify({ ...summary, pseudoLabelQuality: quality }, null, 2) + '\n');
        else {
          printInfo(summary);
          if (quality) printQuality(quality);
        }
      }),
    );

  program
    .command('sample')
    .description('generate the synthetic sample project (deterministic for a seed)')
    .argument('<dir>', 'folder to create it in')
    .option('--seed <n>', 'random seed', int('--seed'), 0)
    .option('--train <n>', 'labeled train images', int('--train'))
    .option('--pool <n>', 'unlabeled pool images', int('--pool'))
    .option('--val <n>', 'val images', int('--val'))
    .option('--test <n>', 'test images', int('--test'))
    .addOption(
      new Option('--sizes <mix>', "object sizes: COCO's shares of small/medium/large, or the first sample's")
        .choices(SIZE_MIXES)
        .default('coco'),
    )
    .action(
      (dir: string, o: { seed: number; train?: number; pool?: number; val?: number; test?: number; sizes: string }) =>
        withSession(async (s) => {
          const custom = [o.train, o.pool, o.val, o.test].some((v) => v !== undefined);
          const counts = { train: o.train ?? 240, pool: o.pool ?? 160, val: o.val ?? 80, test: o.test ?? 80 };
          const { jobId } = await call(s, 'sample.create', {
            dir,
            seed: o.seed,
            open: false,
            sizes: o.sizes as SizeMix,
            ...(custom ? { counts } : {}),
          });
          const r = (await follow(s, jobId)).result as { file: string; sizes: SizeHistogram };
          process.stdout.write(`created the sample project ${r.file}\n`);
          for (const line of formatSizeHistogram(r.sizes, 'object sizes: ')) process.stdout.write(`${line}\n`);
        }),
    );

  program
    .command('zoo')
    .description('model cards: parameters, GFLOPs (as Ultralytics counts them), output strides and channels')
    .argument('[config]', 'one config: a YAML/JSON file or a name like yolo11n, yolo11s-starnet_s050')
    .option('--imgsz <n>', 'input size for GFLOPs', int('--imgsz'), 640)
    .option('--nc <n>', 'number of classes (with [config])', int('--nc'))
    .option('--json', 'print JSON')
    .action((config: string | undefined, o: { imgsz: number; nc?: number; json?: boolean }) =>
      withSession(async (s) => {
        if (config) {
          const cfg = { ...(await readConfigArg(config)), ...(o.nc ? { nc: o.nc } : {}) };
          const card = await call(s, 'zoo.describe', { config: cfg, imgsz: o.imgsz });
          process.stdout.write(o.json ? JSON.stringify(card, null, 2) + '\n' : formatCards([card]));
        } else {
          const cards = await call(s, 'zoo.list', { imgsz: o.imgsz });
          process.stdout.write(o.json ? JSON.stringify(cards, null, 2) + '\n' : formatCards(cards));
        }
      }),
    );

  program
    .command('presets')
    .description("the seeds' models as experiment files (resources/configs): starling train <project> --config FILE")
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      withSession(async (s) => {
        const list = await call(s, 'presets.list', {});
        if (o.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        for (const p of list)
          process.stdout.write(`${p.file}${p.error ? `  (does not parse: ${p.error})` : ''}\n  ${p.description}\n`);
      }),
    );

  program
    .command('export')
    .description('export a detector to ONNX (BatchNorm folded, weights baked in, dynamic batch) and verify it')
    .option('--config <config>', 'a YAML/JSON config file or a name like yolo11n-starnet_s050')
    .option('--run <id>', 'a training run (with --project): its best checkpoint, config and class names', int('--run'))
    .option('--project <project>', 'the project of --run')
    .option('--model <model>', 'model family', 'yolo11')
    .option('--scale <scale>', 'n, s, m, l or x')
    .option('--backbone <name>', 'backbone (yolo11 = the CSP backbone; see starling zoo)')
    .option('--head <head>', `head: ${headNames().join(', ')}`)
    .option('--nc <n>', 'number of classes', int('--nc'))
    .option('--names <list>', 'comma-separated class names (default class0, class1, ...)')
    .option('--weights <file>', 'weights to load: safetensors (a state dict or a Starling checkpoint)')
    .addOption(
      new Option(
        '--style <style>',
        `output style, one the head offers (default: the head's first): ${headEntries()
          .map((h) => `${h.name}: ${h.styles.map((x) => x.name).join(', ')}`)
          .join('; ')}`,
      ).choices([...new Set(headEntries().flatMap((h) => h.styles.map((x) => x.name)))]),
    )
    .option('--imgsz <n>', "input size (multiple of 32; default: --run's own, else 640)", int('--imgsz'))
    .option('--conf <x>', 'nms style: score threshold', Number, 0.25)
    .option('--iou <x>', 'nms style: IoU threshold', Number, 0.7)
    .option('--max-det <n>', 'nms style: detections per image', int('--max-det'), 300)
    .requiredOption('--out <file>', 'where to write the .onnx file')
    .action(
      (o: {
        config?: string;
        run?: number;
        project?: string;
        model: string;
        scale?: string;
        backbone?: string;
        head?: string;
        nc?: number;
        names?: string;
        weights?: string;
        style?: string;
        imgsz?: number;
        conf: number;
        iou: number;
        maxDet: number;
        out: string;
      }) =>
        withSession(async (s) => {
          if (o.run !== undefined) {
            if (!o.project) throw new Error('--run needs --project');
            await call(s, 'project.open', { path: o.project });
          }
          const base = o.config ? await readConfigArg(o.config) : { model: o.model };
          const flags = Object.fromEntries(
            Object.entries({ scale: o.scale, backbone: o.backbone, head: o.head, nc: o.nc }).filter(
              ([, v]) => v !== undefined,
            ),
          );
          const names = o.names?.split(',').map((n) => n.trim());
          const config = {
            ...base,
            ...flags,
            ...(names && o.nc === undefined && !('nc' in base) ? { nc: names.length } : {}),
          };
          const r = await call(s, 'models.export', {
            config,
            ...(o.run !== undefined ? { run: o.run } : {}),
            ...(o.weights ? { weights: o.weights } : {}),
            ...(names ? { names } : {}),
            out: o.out,
            ...(o.style ? { style: o.style } : {}),
            ...(o.imgsz !== undefined ? { imgsz: o.imgsz } : {}),
            conf: o.conf,
            iou: o.iou,
            maxDet: o.maxDet,
          });
          if (r.weights) process.stdout.write(r.weights.report + '\n');
          const shapes = Object.entries(r.verified.shapes)
            .map(([k, v]) => `${k} [${v.join(', ')}]`)
            .join(', ');
          process.stdout.write(
            `exported ${r.out} (${(r.bytes / 1e6).toFixed(2)} MB, ${r.folded} BatchNorms folded)\n` +
              `verified with onnxruntime: ${shapes}; ${r.verified.latencyMs.toFixed(1)} ms per image at ${r.imgsz}\n`,
          );
        }),
    );

  addTrainFlags(
    program
      .command('train')
      .description("train a detector on the project's labeled train split, validating on its val split")
      .argument('<project>', 'project folder or .starling file'),
  )
    .option('--resume <run>', 'resume a run by id (with its own settings)', int('--resume'))
    .option('--name <name>', "run name (default: the config file's, else backbone-head-scale)")
    .option(
      '--config <file>',
      'an experiment file (YAML): the run settings by section; the options given here override it ' +
        "(print a run's with starling runs <project> --config N)",
    )
    .option(
      '--set <key=value>',
      'set any setting by its dotted key, over the file and the options (repeat; e.g. augment.mosaic=0)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .action(
      (
        project: string,
        o: Record<string, unknown> & { resume?: number; name?: string; config?: string; set?: string[] },
      ) =>
        withProject(project, async (s) => {
          const flags = settingsFromFlags(o);
          // A weights path is the user's, relative to where they are (the API takes them from the project folder).
          if (flags.weights?.from) flags.weights.from = userPath(flags.weights.from, process.cwd());
          const file = o.config ? readExperimentFile(o.config) : {};
          let request = mergeSettings(file, flags as Record<string, unknown>);
          for (const a of o.set ?? []) request = mergeSettings(request, parseAssignment(a));
          const { jobId } = await call(s, 'train.start', {
            ...request,
            ...(o.resume !== undefined ? { resume: o.resume } : {}),
            ...(o.name ? { name: o.name } : {}),
          });
          const stop = () => void s.jobs.cancel(jobId);
          process.once('SIGINT', stop);
          const r = (await follow(s, jobId)).result as {
            runId: number;
            epochs: number;
            best: Record<string, number>;
          };
          process.off('SIGINT', stop);
          const m = r.best;
          process.stdout.write(
            `run ${r.runId}: ${r.epochs} epochs; best mAP50 ${(m.mAP50 ?? 0).toFixed(3)}, mAP50-95 ${(m['mAP50-95'] ?? 0).toFixed(3)}\n` +
              `export it: starling export --project ${project} --run ${r.runId} --out model.onnx\n`,
          );
        }),
    );

  program
    .command('val')
    .description("evaluate a run's best checkpoint on the project's val or test split (COCO mAP, P/R, per-class AP)")
    .argument('<project>', 'project folder or .starling file')
    .requiredOption('--run <id>', 'run id', int('--run'))
    .addOption(new Option('--split <split>', 'split').choices(['val', 'test']).default('val'))
    .option('--json', 'print JSON')
    .action((project: string, o: { run: number; split: 'val' | 'test'; json?: boolean }) =>
      withProject(project, async (s) => {
        const r = await call(s, 'runs.evaluate', { id: o.run, split: o.split });
        if (o.json) {
          process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        process.stdout.write(
          `run ${r.runId} on ${r.split} (${r.images} images)\n` + formatCocoStats(cocoStats(r.coco)),
        );
        process.stdout.write(
          ` best-F1 confidence ${r.metrics.bestConf.toFixed(3)}: precision ${r.metrics.precision.toFixed(3)}, recall ${r.metrics.recall.toFixed(3)}\n`,
        );
        const l = r.latency;
        process.stdout.write(
          ` ${(r.parameters / 1e6).toFixed(2)}M parameters, ${r.gflops.toFixed(2)} GFLOPs at ${r.imgsz}; per image: ` +
            `${l.preprocessMs.toFixed(1)} ms preprocess, ${l.inferenceMs.toFixed(1)} ms inference, ` +
            `${l.postprocessMs.toFixed(1)} ms postprocess (${l.machine})\n`,
        );
        for (const c of r.perClass)
          process.stdout.write(`  ${c.name.padEnd(16)} AP50 ${c.ap50.toFixed(3)}  AP50-95 ${c.ap.toFixed(3)}\n`);
      }),
    );

  program
    .command('eval')
    .description("COCO bbox evaluation of a detections file against a ground-truth file (pycocotools' numbers)")
    .requiredOption('--gt <file>', 'COCO ground truth json (images, annotations, categories)')
    .requiredOption('--dt <file>', 'COCO results json: [{image_id, category_id, bbox, score}]')
    .option('--json', 'print JSON (stats and per-class AP)')
    .action(async (o: { gt: string; dt: string; json?: boolean }) => {
      const gt = readJsonFile<CocoGt>(o.gt);
      const dt = readJsonFile<CocoDet[]>(o.dt);
      const r = cocoEvaluate(gt, dt);
      const m = cocoDetectionMetrics(gt, dt);
      if (o.json) {
        const { cells: _cells, ...metrics } = m;
        process.stdout.write(JSON.stringify({ stats: r.stats, perClass: r.perClass, metrics }, null, 2) + '\n');
      } else {
        process.stdout.write(formatCocoStats(r.stats));
        process.stdout.write(
          ` best-F1 confidence ${m.bestConf.toFixed(3)}: precision ${m.precision.toFixed(3)}, recall ${m.recall.toFixed(3)}, F1 ${m.f1.toFixed(3)}\n`,
        );
      }
    });

  program
    .command('predict')
    .description('run a detector ONNX (Starling or Ultralytics layouts) on images; boxes in original image pixels')
    .argument('<model>', 'an .onnx file')
    .argument('<images...>', 'image files')
    .option('--conf <x>', 'score threshold', Number, 0.25)
    .option('--iou <x>', 'NMS IoU threshold (raw outputs)', Number, 0.7)
    .option('--max-det <n>', 'detections per image', int('--max-det'), 300)
    .option('--imgsz <n>', 'input size (default: from the model)', int('--imgsz'))
    .option('--json', 'print JSON')
    .action(
      async (
        model: string,
        images: string[],
        o: { conf: number; iou: number; maxDet: number; imgsz?: number; json?: boolean },
      ) => {
        const preds = await predict(model, images, {
          conf: o.conf,
          iou: o.iou,
          maxDet: o.maxDet,
          ...(o.imgsz ? { imgsz: o.imgsz } : {}),
        });
        const unknown = preds.reduce((n, p) => n + p.dropped.unknownClass, 0);
        const bad = preds.reduce((n, p) => n + p.dropped.badBox, 0);
        if (unknown + bad)
          process.stderr.write(
            `warning: dropped ${unknown + bad} impossible detection(s): ${unknown} with a class id the model does not have, ` +
              `${bad} with no size or nothing inside the image (a broken or mis-declared model?)\n`,
          );
        if (o.json) {
          process.stdout.write(JSON.stringify(preds, null, 2) + '\n');
          return;
        }
        for (const p of preds) {
          process.stdout.write(`${p.file}: ${p.detections.length} detection(s)\n`);
          for (const d of p.detections) {
            process.stdout.write(
              `  ${d.name.padEnd(16)} ${d.score.toFixed(3)}  [${d.box.map((v) => v.toFixed(1)).join(', ')}]\n`,
            );
          }
        }
      },
    );

  program
    .command('serve')
    .description('browser mode: serve the UI and the API on 127.0.0.1 with a per-start token')
    .argument('[project]', 'project to open')
    .option('--port <n>', 'port (default: a free one)', int('--port'), 0)
    .action((project: string | undefined, o: { port: number }) =>
      withSession(async (s) => {
        if (project) await call(s, 'project.open', { path: project });
        await serve(s, o.port);
      }),
    );

  program
    .command('demo')
    .description(
      'the whole pipeline on the sample project: generate it if missing, train the default student, evaluate, ' +
        'export ONNX, predict the test split, print a summary',
    )
    .option('--dir <dir>', 'where the sample project lives', 'sample')
    .option('--minutes <x>', 'training budget in minutes', Number, 8)
    .option('--imgsz <n>', 'input size', int('--imgsz'), 320)
    .addOption(
      new Option('--device <device>', 'execution provider')
        .choices(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'])
        .default('auto'),
    )
    .option('--serve', 'then serve the project in browser mode')
    .option('--port <n>', 'port for --serve (default: a free one)', int('--port'), 0)
    .action(
      (o: {
        dir: string;
        minutes: number;
        imgsz: number;
        device: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
        serve?: boolean;
        port: number;
      }) =>
        withSession(async (s) => {
          await runDemo(s, o);
          if (o.serve) await serve(s, o.port);
        }),
    );

  addTeacherCommands(program);
  addRunsCommand(program);
  addMergeRunsCommand(program);
  addSweepCommand(program);
  return program;
}

/** Runs the CLI; any error becomes one line on stderr (plus a per-item report if any) and exit code 1. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (code?.startsWith('commander.')) return 2; // commander has printed the reason
    const [first, ...rest] = errorMessage(e).split('\n');
    process.stderr.write(`starling: error: ${first}\n`);
    if (rest.length) process.stderr.write(rest.map((l) => `  ${l}`).join('\n') + '\n');
    return 1;
  }
}
