/** No detection head (`none`): the backbone section's four feature maps are the outputs (feature extraction). */
import type { Tensor } from '../../engine/ir.js';
import { Head, registerHead, type ExportStyle } from '../head.js';

const STYLES: readonly ExportStyle[] = [
  { name: 'features', description: 'the stride 4/8/16/32 feature maps feat0..feat3', layout: null },
];

export class FeatureHead extends Head {
  readonly headName = 'none';
  readonly styles = STYLES;
  readonly stride: number;

  constructor(
    readonly nc: number,
    strides: number[],
  ) {
    super();
    this.stride = Math.max(...strides);
  }

  forward(...features: Tensor[]): Tensor {
    return features.at(-1)!;
  }

  outputs(features: Tensor[], style: string): Record<string, Tensor> {
    this.style(style);
    return Object.fromEntries(features.map((f, i) => [`feat${i}`, f]));
  }
}

registerHead({
  name: 'none',
  description: 'no head: the backbone feature maps (feature extraction; nothing to train)',
  reads: 'backbone',
  styles: STYLES,
  build: ({ nc, strides }) => new FeatureHead(nc, strides),
});
