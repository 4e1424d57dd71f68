/**
 * The annotator's photo cache: each image decoded once, plus a screen-sized bitmap (long side at most 2048) made
 * off the main thread. Drawing a 12-megapixel photo scaled down costs tens of milliseconds a frame; the bitmap is
 * drawn until the zoom needs more pixels than it has. Four photos are kept (the shown one, its two neighbours and
 * the one just left: a decoded 12-megapixel photo holds 48 MB), least recently used out.
 */
export interface LoadedImage {
  full: HTMLImageElement;
  screen: ImageBitmap | HTMLImageElement;
}

const SCREEN_MAX = 2048;
const KEEP = 4;

export class ImageCache {
  private readonly loading = new Map<number, Promise<LoadedImage>>();
  /** The image on the canvas: never closed while shown. */
  shown: LoadedImage | null = null;

  constructor(private readonly url: (id: number) => string) {}

  load(id: number): Promise<LoadedImage> {
    const hit = this.loading.get(id);
    if (hit) {
      this.loading.delete(id); // most recently used last: eviction takes the image used longest ago
      this.loading.set(id, hit);
      return hit;
    }
    const img = new Image();
    img.src = this.url(id);
    const p = img.decode().then(async () => {
      const s = Math.min(1, SCREEN_MAX / Math.max(img.naturalWidth, img.naturalHeight));
      const screen =
        s < 1
          ? await createImageBitmap(img, {
              resizeWidth: Math.round(img.naturalWidth * s),
              resizeHeight: Math.round(img.naturalHeight * s),
              resizeQuality: 'medium',
            })
          : img;
      return { full: img, screen };
    });
    p.catch(() => this.loading.delete(id));
    this.loading.set(id, p);
    if (this.loading.size > KEEP) {
      const oldest = this.loading.keys().next().value!;
      void this.loading
        .get(oldest)
        ?.then((l) => l.screen instanceof ImageBitmap && l !== this.shown && l.screen.close())
        .catch(() => {});
      this.loading.delete(oldest);
    }
    return p;
  }

  /** Starts loading without waiting (neighbours, so A/D switch at once). */
  prefetch(id: number): void {
    void this.load(id).catch(() => {});
  }
}
