/** Every head's distillation: one import line per distiller file. */
import './yolo.js';
import './centernet.js';

export { distillerFor, type DistillGraphSpec, type Distiller } from './distiller.js';
