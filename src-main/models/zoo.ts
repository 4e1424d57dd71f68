/**
 * The model zoo: registers every backbone family (one import line per family) and builds detectors.
 */
import './backbones/starnet.js';
import './backbones/shufflenetv2.js';
import './backbones/mobilenetv3.js';
import './backbones/ghostnet.js';
import { nameModules } from '../engine/nn.js';
import { parseDetectorConfig } from './config.js';
import { Detector } from './detector.js';

export { backboneEntry, backboneNames } from './backbone.js';

/** Builds a detector from a config object (validated), with PyTorch/Ultralytics state-dict names assigned. */
export function buildDetector(config: unknown): Detector {
  return nameModules(new Detector(parseDetectorConfig(config)));
}
