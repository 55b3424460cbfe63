/**
 * Iterates `source` while asking it for up to `depth` further items ahead of the one being consumed: the source's
 * work for the next items (a page request, say) overlaps the consumer's work on this one. The source is still asked
 * one item at a time (an async generator runs its body for one `next()` after another), so a chain of page
 * requests stays a chain. An error of the source is thrown where its item would have come; when the consumer stops
 * early, the requests already made are let settle and the source is closed.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const ahead: Promise<IteratorResult<T>>[] = [];
  const request = (): void => {
    const next = iterator.next();
    next.catch(() => undefined); // observed when its turn comes; never an unhandled rejection meanwhile
    ahead.push(next);
  };
  try {
    for (;;) {
      while (ahead.length <= depth) request();
      const result = await ahead.shift()!;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    await Promise.allSettled(ahead);
    await iterator.return?.();
  }
}
