import { ClusterCache, type ClusterEventHandler, type ClusterEvents } from '../../src/common/cluster-events.js';

/**
 * ClusterCache's rules, with the LISTEN connection replaced by a stand-in that says whether it listens and hands
 * the cache its topic's events (the real one is driven by two server processes in
 * test/reliability/cluster-invalidation.e2e-spec.ts).
 */
function standIn(options: { maxEntries?: number; scope?: (key: string) => string } = {}) {
  const handlers = new Map<string, ClusterEventHandler[]>();
  const events = {
    listening: true,
    subscribe: (topic: string, handler: ClusterEventHandler) => handlers.set(topic, [...(handlers.get(topic) ?? []), handler]),
  };
  const announce = (topic: string, key: string | null) => {
    for (const h of handlers.get(topic) ?? []) h(key);
  };
  return { events, announce, cache: new ClusterCache<string>(events as unknown as ClusterEvents, 'thing', { ttlMs: 60_000, maxEntries: options.maxEntries ?? 100, scope: options.scope }) };
}

describe('ClusterCache', () => {
  it('keeps what it read while the events are heard, and reads again after its key was announced', async () => {
    const { cache, announce } = standIn();
    let reads = 0;
    const load = async () => `v${++reads}`;
    expect(await cache.get('a', load)).toBe('v1');
    expect(await cache.get('a', load)).toBe('v1');
    announce('other topic', 'a');
    expect(await cache.get('a', load)).toBe('v1');
    announce('thing', 'b');
    expect(await cache.get('a', load)).toBe('v1');
    announce('thing', 'a');
    expect(await cache.get('a', load)).toBe('v2');
  });

  it('forgets everything when told so (null: the LISTEN connection was lost)', async () => {
    const { cache, announce } = standIn();
    let reads = 0;
    const load = async () => `v${++reads}`;
    await cache.get('a', load);
    await cache.get('b', load);
    announce('thing', null);
    expect(await cache.get('a', load)).toBe('v3');
    expect(await cache.get('b', load)).toBe('v4');
  });

  it('keeps nothing while the events are not heard (it reads through)', async () => {
    const { cache, events } = standIn();
    events.listening = false;
    let reads = 0;
    const load = async () => `v${++reads}`;
    expect(await cache.get('a', load)).toBe('v1');
    expect(await cache.get('a', load)).toBe('v2');
    events.listening = true;
    expect(await cache.get('a', load)).toBe('v3');
    expect(await cache.get('a', load)).toBe('v3');
  });

  it('a read that an invalidation overlaps answers what it read but does not keep it (it may predate the change)', async () => {
    const { cache, announce } = standIn();
    let release!: () => void;
    const slow = cache.get('a', () => new Promise<string>((resolve) => (release = () => resolve('before the change'))));
    announce('thing', 'a');
    release();
    expect(await slow).toBe('before the change');
    expect(await cache.get('a', async () => 'after the change')).toBe('after the change');
  });

  it('does not remember what does not exist', async () => {
    const { cache } = standIn();
    expect(await cache.get('a', async () => undefined)).toBeUndefined();
    expect(await cache.get('a', async () => 'created since')).toBe('created since');
  });

  /** A read whose answer the test releases. */
  function slowRead(cache: ClusterCache<string>, key: string, answer: string) {
    let release!: () => void;
    const done = cache.get(key, () => new Promise<string>((resolve) => (release = () => resolve(answer))));
    return { done, release: () => release() };
  }

  it('a change of another key does not spoil a read in flight: only the reads of the key that changed are not kept', async () => {
    const { cache, announce } = standIn();
    const a = slowRead(cache, 'a', 'a as read');
    const b = slowRead(cache, 'b', 'b as read');
    announce('thing', 'b');
    a.release();
    b.release();
    expect(await a.done).toBe('a as read');
    expect(await b.done).toBe('b as read');
    expect(await cache.get('a', async () => 'a read again')).toBe('a as read'); // kept
    expect(await cache.get('b', async () => 'b read again')).toBe('b read again'); // not kept
  });

  it('with a scope, a change of the scope spoils the reads of every entry in it, and only those', async () => {
    const { cache, announce } = standIn({ scope: (key) => key.split(':')[0] });
    const one = slowRead(cache, 'p1:k1', 'p1 k1');
    const other = slowRead(cache, 'p2:k1', 'p2 k1');
    announce('thing', 'p1');
    one.release();
    other.release();
    await Promise.all([one.done, other.done]);
    expect(await cache.get('p1:k1', async () => 'p1 k1 again')).toBe('p1 k1 again');
    expect(await cache.get('p2:k1', async () => 'p2 k1 again')).toBe('p2 k1');
  });

  it('forgetting everything spoils every read in flight', async () => {
    const { cache, announce } = standIn();
    const a = slowRead(cache, 'a', 'a as read');
    announce('thing', null);
    a.release();
    await a.done;
    expect(await cache.get('a', async () => 'a read again')).toBe('a read again');
  });

  it('a full cache drops its least recently used entry, not everything', async () => {
    const { cache } = standIn({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.get(k, async () => `${k}1`);
    expect(await cache.get('a', async () => 'a2')).toBe('a1'); // a is now the most recently used
    await cache.get('d', async () => 'd1'); // full: b goes
    expect(await cache.get('a', async () => 'a3')).toBe('a1');
    expect(await cache.get('c', async () => 'c3')).toBe('c1');
    expect(await cache.get('d', async () => 'd3')).toBe('d1');
    expect(await cache.get('b', async () => 'b3')).toBe('b3');
  });
});
