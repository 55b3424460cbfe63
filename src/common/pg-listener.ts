import pg from 'pg';
import type { Logger } from 'pino';

/** Reconnect delays of a LISTEN connection (ms): doubled from the first up to the last. */
export const LISTEN_RETRY_MS = [250, 10_000] as const;

export interface PgListenerOptions {
  connectionString: string;
  /** application_name of the connection while it connects (onListening may change it). */
  applicationName: string;
  /** Channels it LISTENs on (identifiers, quoted here). */
  channels: readonly string[];
  logger: Logger;
  /** What the connection is for, at the start of its log messages ("sync", "cluster events"). */
  name: string;
  /** Each notification on one of the channels, in the order the server sent them; must not throw. */
  onNotification(channel: string, payload: string): void;
  /**
   * After every successful LISTEN, before the connection counts as ready (`reconnected`: not the first one). A
   * failure counts as a failed connection (closed, tried again with backoff).
   */
  onListening?(listener: PgListener, reconnected: boolean): Promise<void> | void;
  /** When a ready connection (or one being set up) is lost; a reconnect follows. Must not throw. */
  onLost?(): void;
}

/**
 * One dedicated connection that LISTENs (a pool cannot hold a LISTEN), reconnecting with backoff
 * (LISTEN_RETRY_MS) when it fails. Notifications sent while it is down are lost: `onListening` (reconnected) and
 * `onLost` let the owner make up for them (a sweep, dropping caches).
 */
export class PgListener {
  private client?: pg.Client;
  private retryTimer?: NodeJS.Timeout;
  private running = false;
  private isReady = false;

  constructor(private readonly options: PgListenerOptions) {}

  /** Whether the connection LISTENs and onListening has finished. */
  get ready(): boolean {
    return this.isReady;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect(0);
  }

  /** Closes the connection; no reconnect follows (onLost is not called). */
  async stop(): Promise<void> {
    this.running = false;
    this.isReady = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Runs a statement on the listening connection, after whatever it already runs (throws when it is down). */
  async query(text: string, values: unknown[] = []): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`${this.options.name}: the LISTEN connection is down`);
    await client.query(text, values);
  }

  private connect(attempt: number): void {
    if (!this.running) return;
    const o = this.options;
    const client = new pg.Client({ connectionString: o.connectionString, application_name: o.applicationName, keepAlive: true });
    this.client = client;
    let failed = false;
    const retry = (err: unknown): void => {
      if (failed || this.client !== client) return;
      failed = true;
      this.client = undefined;
      this.isReady = false;
      client.end().catch(() => undefined);
      if (!this.running) return;
      o.onLost?.();
      const delay = Math.min(LISTEN_RETRY_MS[0] * 2 ** attempt, LISTEN_RETRY_MS[1]);
      o.logger.warn({ err, delayMs: delay }, `${o.name}: the LISTEN connection failed; reconnecting`);
      this.retryTimer = setTimeout(() => this.connect(attempt + 1), delay);
      this.retryTimer.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (this.client !== client || msg.payload === undefined || !o.channels.includes(msg.channel)) return;
      o.onNotification(msg.channel, msg.payload);
    });
    client
      .connect()
      .then(() => client.query(o.channels.map((c) => `LISTEN ${client.escapeIdentifier(c)}`).join('; ')))
      .then(() => o.onListening?.(this, attempt > 0))
      .then(() => {
        if (this.client !== client) return;
        this.isReady = true;
        attempt = 0;
      })
      .catch(retry);
  }
}
