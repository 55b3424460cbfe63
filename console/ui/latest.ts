import { useEffect, useRef } from 'preact/hooks';

/**
 * Orders the answers of a read the page repeats (a table refreshed every few seconds): an answer is applied only if no
 * read started after it has been applied already, and never one started before `reset()` (what it read has changed,
 * e.g. another page or search). A slow answer is not thrown away just because a newer read is still on its way.
 * While not `live` (Neon Auth being disabled: what is read is about to go) nothing is read, and an answer on its way
 * when that began is not applied.
 */
export interface Latest {
  /** Not live: nothing is to be read (checked by reads started from an action, not by the refresh). */
  readonly paused: boolean;
  start(): number;
  /** Whether the answer of read `n` may be applied (and records that it was). */
  take(n: number): boolean;
  /** Whether read `n` may go on to its next request (a read of several requests). */
  current(n: number): boolean;
  reset(): void;
}

export function useLatest(live = true): Latest {
  const ref = useRef({ started: 0, applied: 0, floor: 0, live });
  const r = ref.current;
  if (r.live && !live) r.floor = r.started; // paused: what is on its way is not shown
  r.live = live;
  return {
    get paused() {
      return !ref.current.live;
    },
    start: () => ++ref.current.started,
    take: (n) => {
      const s = ref.current;
      if (n <= s.applied || n <= s.floor) return false;
      s.applied = n;
      return true;
    },
    current: (n) => n > ref.current.applied && n > ref.current.floor,
    reset: () => {
      ref.current.floor = ref.current.started;
    },
  };
}

/** Runs `read` now and every `everyMs` while the tab is visible, again when `deps` change, and not at all while not `live`. */
export function useRefresh(read: () => Promise<void>, everyMs: number, live: boolean, deps: unknown[]): void {
  useEffect(() => {
    if (!live) return;
    void read();
    const timer = window.setInterval(() => document.visibilityState === 'visible' && void read(), everyMs);
    return () => window.clearInterval(timer);
  }, [...deps, live]);
}
