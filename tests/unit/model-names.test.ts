import { describe, expect, it } from 'vitest';
import { readConfigArg } from '../../src-main/cli/config-arg.js';
import type { UltralyticsCard } from '../../src-main/models/torch-checkpoint.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { modelFromCard } from '../../src-main/train/start-weights.js';

describe('model names from the CLI and from checkpoints', () => {
  it('reads short names as Ultralytics writes them, the P2 variant too', async () => {
    expect(await readConfigArg('yolov5s')).toEqual({ model: 'yolov5', scale: 's', backbone: 'yolov5', head: 'yolov5' });
    expect(await readConfigArg('yolo11n-starnet_s050')).toEqual({
      model: 'yolo11',
      scale: 'n',
      backbone: 'starnet_s050',
      head: 'yolo',
    });
    expect(await readConfigArg('yolov8n-p2')).toEqual({
      model: 'yolov8-p2',
      scale: 'n',
      backbone: 'yolov8',
      head: 'yolo',
    });
    expect(await readConfigArg('yolo11n-p2-starnet_s050')).toEqual({
      model: 'yolo11-p2',
      scale: 'n',
      backbone: 'starnet_s050',
      head: 'yolo',
    });
    // `p2` after an architecture with no P2 variant stays a backbone name, for the zoo to reject.
    expect(await readConfigArg('yolov5n-p2')).toMatchObject({ model: 'yolov5', backbone: 'p2' });
  });

  it("names the architecture an Ultralytics checkpoint's card describes, the P2 variant by its yaml or strides", () => {
    const card = (yamlFile: string | null, strides: number[], layers: string[]): UltralyticsCard => ({
      modelClass: 'ultralytics.nn.tasks.DetectionModel',
      names: ['a'],
      nc: 1,
      yamlFile,
      scale: 'n',
      strides,
      imgsz: 640,
      version: '8.1.0',
      layers,
    });
    const v8 = ['Conv', 'C2f', 'SPPF', 'Detect'];
    expect(modelFromCard(card('yolov8n.yaml', [8, 16, 32], v8))).toEqual({
      model: 'yolov8',
      backbone: 'yolov8',
      head: 'yolo',
      scale: 'n',
    });
    expect(modelFromCard(card('yolov8n-p2.yaml', [4, 8, 16, 32], v8))).toMatchObject({ model: 'yolov8-p2' });
    // A renamed yaml: the four strides still say P2-P5; the layers say YOLO11.
    const p2 = modelFromCard(card(null, [4, 8, 16, 32], ['Conv', 'C3k2', 'C2PSA', 'Detect']))!;
    expect(p2).toMatchObject({ model: 'yolo11-p2', backbone: 'yolo11' });
    // And Starling builds what it names, predicting at those strides.
    expect(buildDetector({ ...p2, nc: 1 }).outputStrides).toEqual([4, 8, 16, 32]);
  });
});
