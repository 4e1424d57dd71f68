/** Every output layout Starling decodes: one import line per layout file. */
import './ultralytics-raw.js';
import './ultralytics-nms.js';
import './yolov5.js';
import './rtdetr.js';
import './centernet.js';
