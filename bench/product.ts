// The product under test, driven as a black box: its HTTP API (Neon API, embedded Stack provider, webhook
// receiver) and, for what only a database shows (webhook secret, sync_inbox), SQL on its control plane.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Webhook } from 'svix';
import { createLogger } from '../src/common/logger.js';
import { SecretsService } from '../src/common/secrets.js';
import { withPgClient, type BenchPostgres } from './pg.js';
import { HttpTarget, type PreparedRequest } from './load.js';
import { PRODUCT_ENTRY, ServerProcess, WORKER_ENTRY } from './processes.js';

export interface AuthBranch {
  projectId: string;
  branchId: string;
  integrationId: string;
  webhookSecret: string;
  /** Superuser URL of the branch database holding neon_auth.users_sync. */
  branchDbUrl: string;
  providerProjectId: string;
  secretServerKey: string;
  /** The provider project's publishable client key (client access: sign-up and sign-in). */
  publishableClientKey: string;
}

export interface ProductOptions {
  /** Run the sync engine's applier in `npm run worker`'s process beside it (the product takes webhooks in: SYNC_ENGINE=receive). */
  syncWorker?: boolean;
  /** Name of the process in logs (BENCH_SERVER_LOG_DIR file name). */
  name?: string;
  /** Its control-plane database on the bench's PostgreSQL (must not exist yet). */
  database?: string;
  /** Environment added to (or overriding) the product's. */
  env?: Record<string, string>;
}

export type StackUser = Record<string, unknown> & { id: string };

/** Event bodies and signed deliveries, as the provider sends them (svix). */
export class Deliveries {
  constructor(
    private readonly secret: string,
    private readonly path: string,
    private readonly template: StackUser,
  ) {}

  /** A Stack server user object: the template with a new id, name, email and sign-up time. */
  user(id: string, displayName: string, signedUpAtMillis = Date.now()): StackUser {
    return { ...this.template, id, display_name: displayName, primary_email: `${id}@bench.example`, signed_up_at_millis: signedUpAtMillis };
  }

  /** A signed delivery of `{type, data}`, signed now (svix tolerates 5 minutes). */
  signed(type: 'user.created' | 'user.updated', data: StackUser): PreparedRequest {
    const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
    const now = new Date();
    const body = JSON.stringify({ type, data });
    return {
      method: 'POST',
      path: this.path,
      headers: {
        'content-type': 'application/json',
        'svix-id': messageId,
        'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
        'svix-signature': new Webhook(this.secret).sign(messageId, now, body),
      },
      body: Buffer.from(body),
    };
  }

  /** The same deliveries addressed to another server path (a baseline receiving the same bytes). */
  static readdress(requests: PreparedRequest[], path: string): PreparedRequest[] {
    return requests.map((r) => ({ ...r, path }));
  }
}

export class Product {
  readonly api: HttpTarget;

  private constructor(
    readonly server: ServerProcess,
    readonly controlPlaneUrl: string,
    private readonly apiKey: string,
    private readonly secretsKey: string,
    /** With BENCH_SYNC_WORKER=1: `npm run worker`'s process, which applies what the product (SYNC_ENGINE=receive) takes in. */
    readonly worker?: ServerProcess,
  ) {
    this.api = new HttpTarget(server.baseUrl, 256);
  }

  /** Starts `node dist/src/main.js` on its own control-plane database of `pgServer`. */
  static async start(pgServer: BenchPostgres, options: ProductOptions = {}): Promise<Product> {
    const database = options.database ?? 'bench_control_plane';
    const controlPlaneUrl = await pgServer.createDatabase(database);
    const apiKey = `napi_${randomBytes(48).toString('hex').slice(0, 64)}`;
    const secretsKey = randomBytes(32).toString('hex');
    const dataDir = path.join(pgServer.dir, options.database === undefined ? 'product-data' : `product-data-${database}`);
    fs.mkdirSync(dataDir, { recursive: true });
    const server = await ServerProcess.start(options.name ?? 'product', PRODUCT_ENTRY, (port) => ({
      DATABASE_URL: controlPlaneUrl,
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      BOOTSTRAP_API_KEY: apiKey,
      SECRETS_KEY: secretsKey,
      // Request logging is at info: off at warn, like every server in the bench.
      LOG_LEVEL: 'warn',
      // No scheduled reconciliation in the middle of a measurement; the resync scenario starts one on demand.
      NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0',
      ...(options.syncWorker ? { SYNC_ENGINE: 'receive' } : {}),
      ...options.env,
    }),
      // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the product under the bench's load.
      (process.env.BENCH_PRODUCT_NODE_ARGS ?? '').split(' ').filter(Boolean),
    );
    let worker: ServerProcess | undefined;
    if (options.syncWorker) {
      worker = await ServerProcess.start(`${options.name ?? 'product'} sync worker`, WORKER_ENTRY, (port) => ({
        DATABASE_URL: controlPlaneUrl,
        DATA_DIR: dataDir,
        SECRETS_KEY: secretsKey,
        LOG_LEVEL: 'warn',
        NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0',
        WORKER_PORT: String(port),
      }));
    }
    return new Product(server, controlPlaneUrl, apiKey, secretsKey, worker);
  }

  /** A project whose default branch has Neon Auth (Stack) enabled, with the integration's secret. */
  async enableAuthBranch(pgServer: BenchPostgres): Promise<AuthBranch> {
    const created = await this.api.json<{ project: { id: string }; branch: { id: string }; connection_uris: { connection_uri: string }[] }>(
      this.neon('POST', '/projects', { project: { name: 'bench' } }),
    );
    const projectId = created.project.id;
    const branchId = created.branch.id;
    const auth = await this.api.json<{ auth_provider_project_id: string; secret_server_key: string; pub_client_key: string }>(
      this.neon('POST', `/projects/${projectId}/branches/${branchId}/auth`, { auth_provider: 'stack' }),
    );
    const database = new URL(created.connection_uris[0].connection_uri).pathname.slice(1);
    const { id: integrationId, secret } = await this.integrationSecret(projectId, branchId);
    return {
      projectId,
      branchId,
      integrationId,
      webhookSecret: secret,
      branchDbUrl: pgServer.url(database),
      providerProjectId: auth.auth_provider_project_id,
      secretServerKey: auth.secret_server_key,
      publishableClientKey: auth.pub_client_key,
    };
  }

  /** A Neon API request with the bootstrap key. */
  neon(method: PreparedRequest['method'], apiPath: string, body?: unknown): PreparedRequest {
    return {
      method,
      path: `/api/v2${apiPath}`,
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    };
  }

  /** A request to the embedded provider's server API of the branch's provider project. */
  provider(branch: AuthBranch, method: PreparedRequest['method'], apiPath: string, body?: unknown): PreparedRequest {
    return {
      method,
      path: `/stack-auth/api/v1${apiPath}`,
      headers: {
        'content-type': 'application/json',
        'x-stack-access-type': 'server',
        'x-stack-project-id': branch.providerProjectId,
        'x-stack-secret-server-key': branch.secretServerKey,
      },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    };
  }

  /** A request to the embedded provider's client API (what a browser sends, with the publishable client key). */
  client(branch: AuthBranch, method: PreparedRequest['method'], apiPath: string, body?: unknown): PreparedRequest {
    return {
      method,
      path: `/stack-auth/api/v1${apiPath}`,
      headers: {
        'content-type': 'application/json',
        'x-stack-access-type': 'client',
        'x-stack-project-id': branch.providerProjectId,
        'x-stack-publishable-client-key': branch.publishableClientKey,
      },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    };
  }

  receiverPath(branch: AuthBranch): string {
    return `/webhooks/neon-auth/${branch.integrationId}`;
  }

  /**
   * The integration row and its decrypted webhook secret, decrypted with the product's SecretsService and
   * the context NeonAuthIntegrationsService.webhookSecretOf binds (`neon_auth_integrations.webhook_secret:<id>`).
   */
  private async integrationSecret(projectId: string, branchId: string): Promise<{ id: string; secret: string }> {
    const { rows } = await this.controlPlane((c) =>
      c.query<{ id: string; webhook_secret_encrypted: string | null }>(
        'SELECT id, webhook_secret_encrypted FROM neon_auth_integrations WHERE project_id = $1 AND branch_id = $2',
        [projectId, branchId],
      ),
    );
    const row = rows[0];
    if (!row?.webhook_secret_encrypted) throw new Error(`no integration with a webhook secret on ${branchId}`);
    const secrets = new SecretsService({ secretsKey: this.secretsKey } as never, createLogger('silent'));
    return { id: row.id, secret: secrets.decrypt(row.webhook_secret_encrypted, `neon_auth_integrations.webhook_secret:${row.id}`) };
  }

  controlPlane<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    return withPgClient(this.controlPlaneUrl, fn);
  }

  async stop(): Promise<void> {
    this.api.close();
    await this.server.stop();
    await this.worker?.stop();
  }
}
