import { describe, expect, it } from 'vitest';
import { axisLabels, metricName, seriesStyle, tickLabel } from '../../src-renderer/src/lib/chart-labels.js';
import { middleEllipsis, plural } from '../../src-renderer/src/lib/format.js';
import { imgszError, isUnit } from '../../src-renderer/src/lib/field-checks.js';

describe('the Train charts’ labels', () => {
  it('writes ticks of a small span with enough digits to tell them apart', () => {
    // The loss of a converging run: a span of 0.004 must not print as "0.01, 0.01, 0.01".
    const small = axisLabels([0.008, 0.009, 0.01, 0.011, 0.012]);
    expect(new Set(small).size).toBe(5);
    expect(small).toEqual(['0.008', '0.009', '0.010', '0.011', '0.012']);
    expect(axisLabels([0, 50, 100, 150])).toEqual(['0', '50', '100', '150']);
    expect(axisLabels([0.2, 0.4, 0.6])).toEqual(['0.2', '0.4', '0.6']);
    expect(axisLabels([0, 0.25, 0.5])).toEqual(['0.00', '0.25', '0.50']);
    expect(axisLabels([0.00001, 0.00002])).toEqual(['1.0e-5', '2.0e-5']);
    // A learning rate at 1e-5 has no useful fixed-point form.
    expect(tickLabel(0.00002, 0.00001)).toBe('2.0e-5');
    // One tick: the value itself sets the digits.
    expect(axisLabels([0.0035])).toEqual(['0.0035']);
  });

  it('names metrics in words, distillation terms included', () => {
    expect(metricName('loss.box')).toBe('box loss');
    expect(metricName('loss.kd_cls')).toBe('distillation cls loss');
    expect(metricName('imagesPerSecond')).toBe('images/s');
    expect(metricName('lr')).toBe('learning rate');
  });

  it('gives one colour per run when comparing, one per metric otherwise', () => {
    const runA = [0, 1, 2].map((m) => seriesStyle(true, 0, m));
    const runB = [0, 1, 2].map((m) => seriesStyle(true, 1, m));
    expect(new Set(runA.map((s) => s.stroke)).size).toBe(1);
    expect(runA[0]!.stroke).not.toBe(runB[0]!.stroke);
    // The metrics of one run differ by dash, the same dash across runs.
    expect(new Set(runA.map((s) => JSON.stringify(s.dash))).size).toBe(3);
    expect(runA.map((s) => s.dash)).toEqual(runB.map((s) => s.dash));
    const single = [0, 1, 2].map((m) => seriesStyle(false, 0, m));
    expect(new Set(single.map((s) => s.stroke)).size).toBe(3);
    expect(single.every((s) => s.dash.length === 0)).toBe(true);
  });
});

describe('the gallery’s names', () => {
  it('are cut in the middle, keeping where sequential names differ and the extension', () => {
    expect(middleEllipsis('IMG_0001.jpg', 18)).toBe('IMG_0001.jpg');
    const a = middleEllipsis('train_sample_000123.jpg', 18);
    const b = middleEllipsis('train_sample_000124.jpg', 18);
    expect(a).toHaveLength(18);
    expect(a).not.toBe(b);
    expect(a).toBe('train_sa…00123.jpg');
  });
});

describe('form field checks and counts', () => {
  it('say what is wrong with an image size and a 0-1 value, and count nouns', () => {
    expect(imgszError(320, 64)).toBe('');
    expect(imgszError(100, 64)).toBe("Image size must be a multiple of 32 (the model's largest stride): 96?");
    expect(imgszError(32, 64)).toBe('Image size must be a whole number of at least 64');
    expect(imgszError(32, 32)).toBe('');
    expect(imgszError(null, 32)).toBe('Image size must be a whole number of at least 32');
    expect([0, 0.5, 1].every(isUnit)).toBe(true);
    expect([-0.1, 1.5, null, Number.NaN].some(isUnit)).toBe(false);
    expect([plural(1, 'image'), plural(3, 'image'), plural(2, 'box'), plural(0, 'box')]).toEqual([
      '1 image',
      '3 images',
      '2 boxes',
      '0 boxes',
    ]);
  });
});
