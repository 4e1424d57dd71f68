/**
 * The model zoo: registers every backbone family, architecture and head (one import line each) and builds
 * detectors.
 */
import './backbones/yolo11-csp.js';
import './backbones/yolov8-csp.js';
import './backbones/yolov5-csp.js';
import './backbones/starnet.js';
import './backbones/shufflenetv2.js';
import './backbones/mobilenetv3.js';
import './backbones/ghostnet.js';
import './architectures/yolo11.js';
import './architectures/yolov8.js';
import './architectures/yolov5.js';
import './heads/detect.js';
import './heads/yolov5-detect.js';
import './heads/centernet.js';
import './heads/features.js';
import { nameModules } from '../engine/nn.js';
import { parseDetectorConfig } from './config.js';
import { Detector } from './detector.js';

export { backboneEntry, backboneNames } from './backbone.js';
export { headEntries, headEntry, headNames } from './head.js';
export { architectureEntry, architectureNames } from './architecture.js';

/** Builds a detector from a config object (validated), with PyTorch/Ultralytics state-dict names assigned. */
export function buildDetector(config: unknown): Detector {
  return nameModules(new Detector(parseDetectorConfig(config)));
}
