/** Every head's training objective: one import line per objective file. */
import './yolo.js';
import './yolov5.js';
import './centernet.js';
import '../distill/index.js';

export { headGains, objectiveFor, trainableHeads, type Objective } from './objective.js';
