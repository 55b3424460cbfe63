import { useRef } from 'preact/hooks';

/**
 * Orders the answers of a read the page repeats (a table refreshed every few seconds): an answer is applied only if no
 * read started after it has been applied already, and never one started before `reset()` (what it read has changed,
 * e.g. another page or search). A slow answer is not thrown away just because a newer read is still on its way.
 */
export interface Latest {
  start(): number;
  /** Whether the answer of read `n` may be applied (and records that it was). */
  take(n: number): boolean;
  reset(): void;
}

export function useLatest(): Latest {
  const ref = useRef({ started: 0, applied: 0, floor: 0 });
  return {
    start: () => ++ref.current.started,
    take: (n) => {
      const r = ref.current;
      if (n <= r.applied || n <= r.floor) return false;
      r.applied = n;
      return true;
    },
    reset: () => {
      ref.current.floor = ref.current.started;
    },
  };
}
