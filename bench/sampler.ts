// Diagnostic (BENCH_SAMPLE_QUERIES=1): samples pg_stat_activity every few ms while a scenario runs and
// answers which statements the server was busy with (active backends other than this sampler's), so a
// figure that falls short can be traced to SQL without touching the product.
import pg from 'pg';

export interface QueryShare {
  query: string;
  /** Share of all active-backend samples. */
  share: number;
  /** Of those, the share spent waiting (lock, I/O, client...), by wait type. */
  waits: Record<string, number>;
}

export class QuerySampler {
  private readonly counts = new Map<string, { n: number; waits: Map<string, number> }>();
  private total = 0;
  private running = false;
  private loop?: Promise<void>;

  private constructor(private readonly client: pg.Client) {}

  static async start(url: string, everyMs = 5): Promise<QuerySampler> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const sampler = new QuerySampler(client);
    sampler.running = true;
    sampler.loop = sampler.run(everyMs);
    return sampler;
  }

  private async run(everyMs: number): Promise<void> {
    while (this.running) {
      const { rows } = await this.client.query<{ query: string; wait: string | null }>(
        `SELECT query, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
          WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      for (const r of rows) {
        const key = r.query.replace(/\s+/g, ' ').replace(/\(\$\d+[^)]*\)(, \(\$\d+[^)]*\))+/g, '(...), ...').slice(0, 160);
        const entry = this.counts.get(key) ?? { n: 0, waits: new Map() };
        entry.n++;
        if (r.wait) entry.waits.set(r.wait, (entry.waits.get(r.wait) ?? 0) + 1);
        this.counts.set(key, entry);
        this.total++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Stops and answers the `top` statements by share of samples. */
  async stop(top = 8): Promise<QueryShare[]> {
    this.running = false;
    await this.loop;
    await this.client.end();
    return [...this.counts.entries()]
      .sort((a, b) => b[1].n - a[1].n)
      .slice(0, top)
      .map(([query, e]) => ({
        query,
        share: Math.round((e.n / Math.max(1, this.total)) * 1000) / 1000,
        waits: Object.fromEntries([...e.waits.entries()].map(([w, n]) => [w, Math.round((n / e.n) * 100) / 100])),
      }));
  }
}

/** Runs `fn` under a sampler when BENCH_SAMPLE_QUERIES=1. */
export async function sampled<T>(url: string, fn: () => Promise<T>): Promise<{ result: T; queries?: QueryShare[] }> {
  if (process.env.BENCH_SAMPLE_QUERIES !== '1') return { result: await fn() };
  const sampler = await QuerySampler.start(url);
  try {
    return { result: await fn(), queries: await sampler.stop() };
  } catch (err) {
    await sampler.stop();
    throw err;
  }
}
