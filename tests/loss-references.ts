/** Plain-loop references the loss tests check the graph losses against. */

/** Ultralytics' bbox_iou(CIoU=True) on x1 y1 x2 y2 boxes, element by element. */
export function ciouRef(a: number[], b: number[]): number {
  const eps = 1e-7;
  const [w1, h1] = [a[2]! - a[0]!, a[3]! - a[1]! + eps];
  const [w2, h2] = [b[2]! - b[0]!, b[3]! - b[1]! + eps];
  const inter =
    Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!)) *
    Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const iou = inter / (w1 * h1 + w2 * h2 - inter + eps);
  const cw = Math.max(a[2]!, b[2]!) - Math.min(a[0]!, b[0]!);
  const ch = Math.max(a[3]!, b[3]!) - Math.min(a[1]!, b[1]!);
  const c2 = cw * cw + ch * ch + eps;
  const rho2 = ((b[0]! + b[2]! - a[0]! - a[2]!) ** 2 + (b[1]! + b[3]! - a[1]! - a[3]!) ** 2) / 4;
  const v = (4 / Math.PI ** 2) * (Math.atan(w2 / h2) - Math.atan(w1 / h1)) ** 2;
  return iou - (rho2 / c2 + v * (v / (v - iou + 1 + eps)));
}
