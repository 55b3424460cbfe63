import { ClusterCache, type ClusterEventHandler, type ClusterEvents } from '../../src/common/cluster-events.js';

/**
 * ClusterCache's rules, with the LISTEN connection replaced by a stand-in that says whether it listens and hands
 * the cache its topic's events (the real one is driven by two server processes in
 * test/reliability/cluster-invalidation.e2e-spec.ts).
 */
function standIn() {
  const handlers = new Map<string, ClusterEventHandler[]>();
  const events = {
    listening: true,
    subscribe: (topic: string, handler: ClusterEventHandler) => handlers.set(topic, [...(handlers.get(topic) ?? []), handler]),
  };
  const announce = (topic: string, key: string | null) => {
    for (const h of handlers.get(topic) ?? []) h(key);
  };
  return { events, announce, cache: new ClusterCache<string>(events as unknown as ClusterEvents, 'thing', { ttlMs: 60_000, maxEntries: 100 }) };
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
});
