/**
 * Gallery thumbnails, fetched by the renderer rather than by `<img src>`: a few at a time, the cells nearest
 * the middle of the viewport first, and dropped (aborted) when their cell scrolls out of the window.
 *
 * Why: with plain `<img>` tags, a fast scroll over a 100k-image project queued thousands of thumbnail requests;
 * they held the browser's six connections to the server, so the gallery's own page requests waited behind
 * them and the grid showed placeholders for seconds (`npm run bench:gallery`).
 */
const MAX_IN_FLIGHT = 4;
/** Decoded thumbnails kept as object URLs, least recently used dropped first (about 10 kB each). */
const CACHE_SIZE = 800;

export interface ThumbnailParams {
  url: string;
  /** Lower loads sooner: rows away from the middle of the viewport. */
  priority: number;
  onError?: () => void;
}

interface Waiter {
  img: HTMLImageElement;
  params: ThumbnailParams;
  seq: number;
}

class ThumbnailLoader {
  private cache = new Map<string, string>();
  private waiting = new Set<Waiter>();
  private inFlight = new Map<string, { abort: AbortController; waiters: Set<Waiter> }>();
  private seq = 0;

  want(w: Waiter): void {
    const hit = this.cache.get(w.params.url);
    if (hit) {
      // Refresh its place in the LRU order.
      this.cache.delete(w.params.url);
      this.cache.set(w.params.url, hit);
      w.img.src = hit;
      return;
    }
    const flying = this.inFlight.get(w.params.url);
    if (flying) flying.waiters.add(w);
    else this.waiting.add(w);
    this.pump();
  }

  drop(w: Waiter): void {
    this.waiting.delete(w);
    for (const [url, f] of this.inFlight) {
      if (!f.waiters.delete(w) || f.waiters.size) continue;
      f.abort.abort();
      this.inFlight.delete(url);
    }
    this.pump();
  }

  private next(): Waiter | null {
    let best: Waiter | null = null;
    for (const w of this.waiting) {
      if (
        !best ||
        w.params.priority < best.params.priority ||
        (w.params.priority === best.params.priority && w.seq > best.seq)
      )
        best = w;
    }
    return best;
  }

  private pump(): void {
    while (this.inFlight.size < MAX_IN_FLIGHT) {
      const w = this.next();
      if (!w) return;
      const url = w.params.url;
      const waiters = new Set([...this.waiting].filter((x) => x.params.url === url));
      waiters.forEach((x) => this.waiting.delete(x));
      const abort = new AbortController();
      this.inFlight.set(url, { abort, waiters });
      void this.load(url, abort).then((r) => {
        if ('objectUrl' in r) this.remember(url, r.objectUrl);
        if (this.inFlight.get(url)?.abort !== abort) return; // dropped meanwhile
        this.inFlight.delete(url);
        for (const x of waiters) {
          if ('objectUrl' in r) x.img.src = r.objectUrl;
          // Not fetchable from here (the server restarting, a scheme fetch may not use): the <img> tries the URL
          // itself, and its own onerror marks the image unreadable if that fails too.
          else if ('unreachable' in r) x.img.src = url;
          else x.params.onError?.();
        }
        this.pump();
      });
    }
  }

  private async load(
    url: string,
    abort: AbortController,
  ): Promise<{ objectUrl: string } | { missing: true } | { unreachable: true }> {
    try {
      const res = await fetch(url, { signal: abort.signal });
      // The server answers 404 for a missing or undecodable image file.
      if (!res.ok) return { missing: true };
      return { objectUrl: URL.createObjectURL(await res.blob()) };
    } catch {
      return { unreachable: true }; // aborted (then unused) or a network failure
    }
  }

  private remember(url: string, objectUrl: string): void {
    const old = this.cache.get(url);
    if (old !== undefined) {
      this.cache.delete(url);
      URL.revokeObjectURL(old);
    }
    this.cache.set(url, objectUrl);
    if (this.cache.size > CACHE_SIZE) {
      const [oldUrl, oldObject] = this.cache.entries().next().value!;
      this.cache.delete(oldUrl);
      // An <img> already showing it keeps its decoded pixels; only new uses need the URL.
      URL.revokeObjectURL(oldObject);
    }
  }

  nextSeq(): number {
    return ++this.seq;
  }
}

const loader = new ThumbnailLoader();

/** Svelte action: `<img use:thumbnail={{ url, priority }} />`. */
export function thumbnail(img: HTMLImageElement, params: ThumbnailParams) {
  let w: Waiter = { img, params, seq: loader.nextSeq() };
  loader.want(w);
  return {
    update(next: ThumbnailParams) {
      if (next.url === w.params.url) {
        w.params = next; // only the priority moved
        return;
      }
      loader.drop(w);
      img.removeAttribute('src');
      w = { img, params: next, seq: loader.nextSeq() };
      loader.want(w);
    },
    destroy() {
      loader.drop(w);
    },
  };
}
