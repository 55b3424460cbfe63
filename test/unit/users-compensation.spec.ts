import { pino, type Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from '../../src/common/errors.js';
import type { AccessService } from '../../src/iam/access.service.js';
import type { AccessContext, Principal } from '../../src/iam/principal.js';
import { neonAuthNotEnabled, type NeonAuthIntegrationResolver, type ResolvedIntegration } from '../../src/neon-auth/integrations/integration-resolver.js';
import { NeonAuthIntegrationEntity } from '../../src/neon-auth/integrations/integration.entity.js';
import { NeonAuthUsersService } from '../../src/neon-auth/users/users.service.js';
import { UsersSyncMissingError } from '../../src/neon-auth/users-sync/users-sync.errors.js';
import type { UsersSyncRow } from '../../src/neon-auth/users-sync/users-sync.statements.js';
import type { NeonAuthUsersSyncStore, WriteResult } from '../../src/neon-auth/users-sync/users-sync.store.js';
import type { BranchDatabase } from '../../src/projects/branch-databases/branch-databases.service.js';
import { ProjectEntity } from '../../src/projects/entities/project.entity.js';
import { ProviderUnavailable, type ProviderCredentials } from '../../src/providers/auth-provider.port.js';
import { FAKE_CREDENTIALS, FAKE_NOW_MILLIS, FakeAuthProvider } from './fakes/fake-auth-provider.js';

/**
 * NeonAuthUsersService without Nest and without a database: the fake provider behind a stub integration
 * resolver, and a stub users_sync store. What is checked is the service's own rule: the provider and
 * users_sync agree before the answer, a failed users_sync write undoes the provider's create (compensation),
 * and a retried delete converges.
 */

const PROJECT_ID = 'shiny-meadow-12345678';
const BRANCH_ID = 'br-quiet-river-482913';
const DATABASE: BranchDatabase = Object.freeze({ branchId: BRANCH_ID, name: 'neondb', physicalName: `neondb.${BRANCH_ID}`, ownerRole: `neondb_owner.${PROJECT_ID}` });

function integrationEntity(): NeonAuthIntegrationEntity {
  return Object.assign(new NeonAuthIntegrationEntity(), {
    id: '6f1d2a8e-0000-4000-8000-000000000001',
    projectId: PROJECT_ID,
    branchId: BRANCH_ID,
    databaseName: 'neondb',
    authProvider: 'mock' as const,
    providerProjectId: FAKE_CREDENTIALS.projectId,
    ownedBy: 'neon' as const,
    transferStatus: null,
    credentialsEncrypted: 'not used by the stub',
    webhookSecretEncrypted: null,
    jwksUrl: 'https://fake-auth.invalid/jwks.json',
    baseUrl: null,
    name: null,
  });
}

/** Only what NeonAuthUsersService calls on the resolver. */
type ResolverSeam = Pick<NeonAuthIntegrationResolver, 'findForBranch' | 'findForDefaultBranch' | 'findForLegacyBody' | 'resolve' | 'branchDatabaseOf'>;

class StubResolver implements ResolverSeam {
  readonly integration = integrationEntity();
  readonly credentials: ProviderCredentials = { ...FAKE_CREDENTIALS };
  /** When set, branchDatabaseOf fails with it (the branch database was dropped). */
  databaseFailure?: Error;

  constructor(private readonly provider: FakeAuthProvider) {}

  async findForBranch(projectId: string, branchId: string): Promise<NeonAuthIntegrationEntity> {
    if (projectId === this.integration.projectId && branchId === this.integration.branchId) return this.integration;
    throw neonAuthNotEnabled(`branch ${branchId}`);
  }

  async findForDefaultBranch(projectId: string): Promise<NeonAuthIntegrationEntity> {
    return this.findForBranch(projectId, BRANCH_ID);
  }

  async findForLegacyBody(projectId: string): Promise<ResolvedIntegration> {
    return this.resolve(await this.findForDefaultBranch(projectId));
  }

  resolve(integration: NeonAuthIntegrationEntity): ResolvedIntegration {
    return { integration, provider: this.provider, credentials: this.credentials };
  }

  async branchDatabaseOf(integration: NeonAuthIntegrationEntity): Promise<BranchDatabase> {
    if (this.databaseFailure) throw this.databaseFailure;
    expect(integration).toBe(this.integration);
    return DATABASE;
  }
}

interface SyncRow {
  raw: Record<string, unknown>;
  updatedAt: Date;
  deletedAt: Date | null;
}

type StoreCall =
  | { op: 'upsertUsers'; database: string; rows: UsersSyncRow[] }
  | { op: 'markDeleted'; database: string; ids: string[]; at: Date | string }
  | { op: 'rowOf'; database: string; userId: string };

/** Only what NeonAuthUsersService calls on the users_sync store (the list is not exercised here). */
type StoreSeam = Pick<NeonAuthUsersSyncStore, 'upsertUsers' | 'markDeleted' | 'rowOf'>;

class StubUsersSync implements StoreSeam {
  readonly rows = new Map<string, SyncRow>();
  readonly calls: StoreCall[] = [];
  /** One-shot failures per operation (the next call throws, later ones work). */
  readonly failNext: Partial<Record<StoreCall['op'], Error>> = {};

  async upsertUsers(target: Pick<BranchDatabase, 'physicalName'>, rows: UsersSyncRow[]): Promise<WriteResult> {
    this.enter({ op: 'upsertUsers', database: target.physicalName, rows });
    let written = 0;
    for (const row of rows) {
      const id = String(row.raw_json.id);
      const updatedAt = new Date(row.updated_at);
      const current = this.rows.get(id);
      if (current && current.updatedAt >= updatedAt) continue;
      this.rows.set(id, { raw: row.raw_json, updatedAt, deletedAt: row.deleted_at ? new Date(row.deleted_at) : null });
      written++;
    }
    return { written, skipped: rows.length - written };
  }

  async markDeleted(target: Pick<BranchDatabase, 'physicalName'>, ids: string[], at: Date | string): Promise<WriteResult> {
    this.enter({ op: 'markDeleted', database: target.physicalName, ids, at });
    const when = new Date(at);
    for (const id of ids) {
      const current = this.rows.get(id);
      this.rows.set(id, { raw: current?.raw ?? { id }, updatedAt: when, deletedAt: when });
    }
    return { written: ids.length, skipped: 0 };
  }

  async rowOf(target: Pick<BranchDatabase, 'physicalName'>, userId: string): Promise<{ updatedAt: Date | null; deleted: boolean } | undefined> {
    this.enter({ op: 'rowOf', database: target.physicalName, userId });
    const row = this.rows.get(userId);
    return row ? { updatedAt: row.updatedAt, deleted: row.deletedAt !== null } : undefined;
  }

  ops(): StoreCall['op'][] {
    return this.calls.map((c) => c.op);
  }

  private enter(call: StoreCall): void {
    this.calls.push(call);
    const failure = this.failNext[call.op];
    if (failure) {
      delete this.failNext[call.op];
      throw failure;
    }
  }
}

interface LogLine {
  level: number;
  msg: string;
  user?: string;
  err?: string;
}

interface World {
  provider: FakeAuthProvider;
  resolver: StubResolver;
  usersSync: StubUsersSync;
  logs: LogLine[];
  service: NeonAuthUsersService;
  caller: AccessContext;
  access: { authorizeCalls: number; refusal?: ApiError };
  /** The control-plane database's clock the service reads (µs; undefined: this process's clock at the call). */
  clock: { nowUs?: number; reads: number };
}

function world(provider = new FakeAuthProvider()): World {
  const resolver = new StubResolver(provider);
  const usersSync = new StubUsersSync();
  const logs: LogLine[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const access: World['access'] = { authorizeCalls: 0 };
  const accessStub: Pick<AccessService, 'authorize'> = {
    async authorize(_policy, principal, params) {
      access.authorizeCalls++;
      if (access.refusal) throw access.refusal;
      const project = Object.assign(new ProjectEntity(), { id: params.project_id, orgId: 'org-a' });
      return { principal, project, projectRole: 'admin' };
    },
  };
  // The control-plane database's clock: `SELECT ... clock_timestamp()` answered by a stub.
  const clock: World['clock'] = { reads: 0 };
  const db = {
    async query(): Promise<{ us: string }[]> {
      clock.reads++;
      return [{ us: String(clock.nowUs ?? Date.now() * 1000) }];
    },
  };
  // The service takes the concrete classes; the stubs implement exactly the members it calls.
  const service = new NeonAuthUsersService(
    resolver as unknown as NeonAuthIntegrationResolver,
    usersSync as unknown as NeonAuthUsersSyncStore,
    accessStub as AccessService,
    db as unknown as DataSource,
    logger,
  );
  const principal: Principal = { kind: 'organization', keyId: 1, orgId: 'org-a' };
  const caller: AccessContext = { principal, project: Object.assign(new ProjectEntity(), { id: PROJECT_ID, orgId: 'org-a' }), projectRole: 'admin' };
  return { provider, resolver, usersSync, logs, service, caller, access, clock };
}

/** The ApiError a call rejects with (fails the test if it resolves or rejects with something else). */
async function apiErrorOf(call: Promise<unknown>): Promise<ApiError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected an ApiError, the call answered ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof ApiError)) throw outcome.error;
  return outcome.error;
}

const LEFT_BEHIND = /the auth provider still has user/;

describe('NeonAuthUsersService: create', () => {
  it('creates in the provider, then upserts its user object with updated_at = the sign-up time', async () => {
    const w = world();
    const answer = await w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com', name: 'Ada' });

    expect(answer).toEqual({ id: 'user-0001' });
    expect(w.provider.methodsCalled()).toEqual(['createUser']);
    expect(w.provider.callsOf('createUser')).toEqual([[w.resolver.credentials, { email: 'ada@example.com', name: 'Ada' }]]);
    expect(w.usersSync.calls).toHaveLength(1);
    const [call] = w.usersSync.calls;
    if (call.op !== 'upsertUsers') throw new Error(`expected upsertUsers, got ${call.op}`);
    expect(call.database).toBe(DATABASE.physicalName);
    expect(call.rows).toHaveLength(1);
    expect(call.rows[0].raw_json).toEqual(w.provider.userById('user-0001')?.raw);
    // The provider's sign-up time (2023), not the time of the call.
    expect(new Date(call.rows[0].updated_at).getTime()).toBe(FAKE_NOW_MILLIS);
    expect(call.rows[0].deleted_at ?? null).toBeNull();
  });

  it('never stamps a creation later than now on the control-plane database\'s clock (a provider clock ahead): 1 µs before it', async () => {
    // The provider's clock an hour ahead of the database's.
    const w = world(new FakeAuthProvider({ now: () => 1_800_000_000_000 + 3_600_000 }));
    w.clock.nowUs = 1_800_000_000_000_123;
    await w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' });
    const [call] = w.usersSync.calls;
    if (call.op !== 'upsertUsers') throw new Error(`expected upsertUsers, got ${call.op}`);
    expect(call.rows[0].updated_at).toBe('2027-01-15T08:00:00.000122Z');
  });

  it('sends the email as the name when none is given (what neonctl does)', async () => {
    const w = world();
    await w.service.createForBranch(w.caller, BRANCH_ID, { email: 'bob@example.com' });
    expect(w.provider.callsOf('createUser')[0][1]).toEqual({ email: 'bob@example.com', name: 'bob@example.com' });
    expect(w.usersSync.rows.get('user-0001')?.raw.display_name).toBe('bob@example.com');
  });

  it('a failed users_sync write deletes the provider user again and answers 503 NEON_AUTH_USERS_SYNC_UNAVAILABLE; a retry then works', async () => {
    const w = world();
    w.usersSync.failNext.upsertUsers = new Error('connect ECONNREFUSED');

    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncUnavailable);
    expect(err.status).toBe(503);
    expect(err.message).toBe('neon_auth.users_sync in database neondb is unavailable; the user was not created. Retry later');
    expect(err.message).not.toMatch(LEFT_BEHIND);
    // Compensation: the user the provider made is deleted again.
    expect(w.provider.methodsCalled()).toEqual(['createUser', 'deleteUser']);
    expect(w.provider.callsOf('deleteUser')).toEqual([[w.resolver.credentials, 'user-0001']]);
    expect(w.provider.liveUserIds()).toEqual([]);
    expect(w.usersSync.rows.size).toBe(0);
    expect(w.logs.some((l) => l.level === 40 && l.user === 'user-0001' && /deleted again/.test(l.msg))).toBe(true);

    // Nothing half-made stayed behind: the same email can be created now.
    await expect(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' })).resolves.toEqual({ id: 'user-0002' });
    expect(w.provider.liveUserIds()).toEqual(['user-0002']);
    expect([...w.usersSync.rows.keys()]).toEqual(['user-0002']);
  });

  it('a missing users_sync table answers 409 NEON_AUTH_USERS_SYNC_MISSING, after the same compensation', async () => {
    const w = world();
    w.usersSync.failNext.upsertUsers = new UsersSyncMissingError(DATABASE.physicalName);

    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncMissing);
    expect(err.status).toBe(409);
    expect(err.message).toBe(
      'neon_auth.users_sync does not exist in database neondb: disable and enable Neon Auth to provision it again; the user was not created',
    );
    expect(w.provider.methodsCalled()).toEqual(['createUser', 'deleteUser']);
    expect(w.provider.liveUserIds()).toEqual([]);
  });

  it('when the compensation fails too, the 503 names the provider user left behind (and it is logged as an error)', async () => {
    const w = world();
    w.usersSync.failNext.upsertUsers = new Error('connection terminated');
    w.provider.failOn('deleteUser', new ProviderUnavailable('provider down', { status: 502 }));

    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncUnavailable);
    expect(err.status).toBe(503);
    expect(err.message).toBe(
      'neon_auth.users_sync in database neondb is unavailable; the user was not created (the auth provider still has user user-0001; the sync will reconcile it). Retry later',
    );
    expect(w.provider.liveUserIds()).toEqual(['user-0001']);
    const errors = w.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ user: 'user-0001', err: 'ProviderUnavailable: provider down' });
  });

  it('a missing table with a failed compensation is a 409 that names the user left behind', async () => {
    const w = world();
    w.usersSync.failNext.upsertUsers = new UsersSyncMissingError(DATABASE.physicalName);
    w.provider.failOn('deleteUser', new Error('socket hang up'));

    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncMissing);
    expect(err.message).toMatch(/the user was not created \(the auth provider still has user user-0001; the sync will reconcile it\)$/);
  });

  it('a duplicate email in the provider is 409 AUTH_USER_ALREADY_EXISTS and touches neither users_sync nor anything else', async () => {
    const w = world();
    w.provider.seedUser({ email: 'ada@example.com' });

    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect(err.code).toBe(ErrorCode.AuthUserAlreadyExists);
    expect(err.status).toBe(409);
    expect(err.message).toBe('a user with email ada@example.com already exists');
    expect(w.provider.methodsCalled()).toEqual(['createUser']);
    expect(w.usersSync.calls).toEqual([]);
  });

  it('a provider outage is 503 AUTH_PROVIDER_UNAVAILABLE; a plain provider error is rethrown unchanged (the filter makes it a 500)', async () => {
    const w = world();
    w.provider.failOn('createUser', new ProviderUnavailable('rate limited', { status: 429, retryAfterSeconds: 7 }));
    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect({ code: err.code, status: err.status, message: err.message }).toEqual({
      code: ErrorCode.AuthProviderUnavailable,
      status: 503,
      message: 'the auth provider is unavailable; retry after 7 s',
    });

    const plain = new TypeError('boom');
    w.provider.failOn('createUser', plain);
    await expect(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' })).rejects.toBe(plain);
    expect(w.usersSync.calls).toEqual([]);
  });

  it('resolves the branch database before calling the provider: a dropped database creates nothing', async () => {
    const w = world();
    w.resolver.databaseFailure = ApiError.notFound('database neondb');
    const err = await apiErrorOf(w.service.createForBranch(w.caller, BRANCH_ID, { email: 'ada@example.com' }));
    expect(err.code).toBe(ErrorCode.NotFound);
    expect(w.provider.calls).toEqual([]);
  });

  it('a branch without Neon Auth is 404 NEON_AUTH_NOT_ENABLED before any provider call', async () => {
    const w = world();
    const err = await apiErrorOf(w.service.createForBranch(w.caller, 'br-other-000000', { email: 'ada@example.com' }));
    expect({ code: err.code, status: err.status }).toEqual({ code: ErrorCode.NeonAuthNotEnabled, status: 404 });
    expect(w.provider.calls).toEqual([]);
  });

  it('the legacy create checks access on the body project first: refused -> nothing is called', async () => {
    const w = world();
    w.access.refusal = ApiError.notFound(`project ${PROJECT_ID}`);
    const err = await apiErrorOf(
      w.service.createLegacy(w.caller.principal, { project_id: PROJECT_ID, auth_provider: 'mock', email: 'ada@example.com' }),
    );
    expect(err.code).toBe(ErrorCode.NotFound);
    expect(w.access.authorizeCalls).toBe(1);
    expect(w.provider.calls).toEqual([]);
    expect(w.usersSync.calls).toEqual([]);
  });
});

describe('NeonAuthUsersService: delete', () => {
  it('deletes in the provider, then marks the row deleted at now on the database\'s clock (after the row last state)', async () => {
    const w = world();
    const user = w.provider.seedUser({ email: 'ada@example.com' });
    w.usersSync.rows.set(user.id, { raw: user.raw, updatedAt: new Date(FAKE_NOW_MILLIS), deletedAt: null });
    w.clock.nowUs = 1_800_000_000_000_123;

    await expect(w.service.deleteForBranch(w.caller, BRANCH_ID, user.id)).resolves.toBeUndefined();

    expect(w.provider.callsOf('deleteUser')).toEqual([[w.resolver.credentials, user.id]]);
    expect(w.provider.liveUserIds()).toEqual([]);
    expect(w.usersSync.ops()).toEqual(['rowOf', 'markDeleted']);
    const mark = w.usersSync.calls[1];
    if (mark.op !== 'markDeleted') throw new Error('expected markDeleted');
    expect(mark.ids).toEqual([user.id]);
    expect(mark.at).toBe('2027-01-15T08:00:00.000123Z');
  });

  it('stamps the deletion 1 ms after the row when the row is newer than now (a provider clock ahead)', async () => {
    const w = world();
    const user = w.provider.seedUser({ email: 'ada@example.com' });
    const future = Date.now() + 3_600_000;
    w.usersSync.rows.set(user.id, { raw: user.raw, updatedAt: new Date(future), deletedAt: null });

    await w.service.deleteForBranch(w.caller, BRANCH_ID, user.id);
    const mark = w.usersSync.calls.find((c) => c.op === 'markDeleted');
    if (mark?.op !== 'markDeleted') throw new Error('expected markDeleted');
    expect(new Date(mark.at).getTime()).toBe(future + 1);
  });

  it('repairs a user the provider no longer knows but users_sync still shows live (an earlier delete whose write failed)', async () => {
    const w = world();
    w.usersSync.rows.set('user-gone', { raw: { id: 'user-gone' }, updatedAt: new Date(FAKE_NOW_MILLIS), deletedAt: null });

    await expect(w.service.deleteForBranch(w.caller, BRANCH_ID, 'user-gone')).resolves.toBeUndefined();
    expect(w.provider.methodsCalled()).toEqual(['deleteUser']);
    expect(w.usersSync.ops()).toEqual(['rowOf', 'rowOf', 'markDeleted']);
    expect(w.usersSync.rows.get('user-gone')?.deletedAt).toBeInstanceOf(Date);
  });

  it('a user unknown to both the provider and users_sync is 404 AUTH_USER_NOT_FOUND, and nothing is written', async () => {
    const w = world();
    const err = await apiErrorOf(w.service.deleteForBranch(w.caller, BRANCH_ID, 'user-nobody'));
    expect({ code: err.code, status: err.status, message: err.message }).toEqual({
      code: ErrorCode.AuthUserNotFound,
      status: 404,
      message: 'auth user user-nobody not found',
    });
    expect(w.usersSync.ops()).toEqual(['rowOf']);
  });

  it('a user gone from the provider and already deleted in users_sync is 404 as well', async () => {
    const w = world();
    const when = new Date(FAKE_NOW_MILLIS);
    w.usersSync.rows.set('user-old', { raw: { id: 'user-old' }, updatedAt: when, deletedAt: when });
    const err = await apiErrorOf(w.service.deleteForBranch(w.caller, BRANCH_ID, 'user-old'));
    expect(err.code).toBe(ErrorCode.AuthUserNotFound);
    expect(w.usersSync.ops()).toEqual(['rowOf']);
  });

  it('a failed users_sync write after the provider delete is a 503 that asks for a retry, and the retry converges', async () => {
    const w = world();
    const user = w.provider.seedUser({ email: 'ada@example.com' });
    w.usersSync.rows.set(user.id, { raw: user.raw, updatedAt: new Date(FAKE_NOW_MILLIS), deletedAt: null });
    w.usersSync.failNext.markDeleted = new Error('connection reset');

    const err = await apiErrorOf(w.service.deleteForBranch(w.caller, BRANCH_ID, user.id));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncUnavailable);
    expect(err.message).toBe(
      'neon_auth.users_sync in database neondb is unavailable; the user was deleted in the auth provider; retry the call to record the deletion. Retry later',
    );
    expect(w.provider.liveUserIds()).toEqual([]);
    expect(w.usersSync.rows.get(user.id)?.deletedAt).toBeNull();

    await expect(w.service.deleteForBranch(w.caller, BRANCH_ID, user.id)).resolves.toBeUndefined();
    expect(w.usersSync.rows.get(user.id)?.deletedAt).toBeInstanceOf(Date);
  });

  it('a provider outage on delete is 503 AUTH_PROVIDER_UNAVAILABLE and leaves users_sync alone', async () => {
    const w = world();
    const user = w.provider.seedUser({ email: 'ada@example.com' });
    w.provider.failOn('deleteUser', new ProviderUnavailable('timeout'));
    const err = await apiErrorOf(w.service.deleteForBranch(w.caller, BRANCH_ID, user.id));
    expect({ code: err.code, status: err.status }).toEqual({ code: ErrorCode.AuthProviderUnavailable, status: 503 });
    expect(w.usersSync.calls).toEqual([]);
  });

  it('a missing table while checking an unknown user is 409 NEON_AUTH_USERS_SYNC_MISSING ("nothing was changed")', async () => {
    const w = world();
    w.usersSync.failNext.rowOf = new UsersSyncMissingError(DATABASE.physicalName);
    const err = await apiErrorOf(w.service.deleteForBranch(w.caller, BRANCH_ID, 'user-nobody'));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncMissing);
    expect(err.message).toMatch(/; nothing was changed$/);
  });
});

describe('NeonAuthUsersService: set roles', () => {
  it('upserts the provider answer with updated_at = now on the control-plane database\'s clock, even when the provider clock is ahead', async () => {
    const w = world(new FakeAuthProvider({ now: () => 1_800_000_000_000 + 3_600_000 }));
    const user = w.provider.seedUser({ email: 'ada@example.com' });
    w.clock.nowUs = 1_800_000_000_000_123;

    await expect(w.service.setRolesForBranch(w.caller, BRANCH_ID, user.id, ['admin'])).resolves.toEqual({ id: user.id });
    expect(w.provider.callsOf('setUserRoles')).toEqual([[w.resolver.credentials, user.id, ['admin']]]);
    const call = w.usersSync.calls[0];
    if (call.op !== 'upsertUsers') throw new Error('expected upsertUsers');
    expect(call.rows[0].updated_at).toBe('2027-01-15T08:00:00.000123Z');
    expect(call.rows[0].raw_json.server_metadata).toEqual({ roles: ['admin'] });
  });

  it('a failed users_sync write is 503 and does not undo the roles (PUT is idempotent: retry)', async () => {
    const w = world();
    const user = w.provider.seedUser({ email: 'ada@example.com' });
    w.usersSync.failNext.upsertUsers = new Error('down');
    const err = await apiErrorOf(w.service.setRolesForBranch(w.caller, BRANCH_ID, user.id, ['admin']));
    expect(err.code).toBe(ErrorCode.NeonAuthUsersSyncUnavailable);
    expect(err.message).toMatch(/the roles were stored in the auth provider; retry the call to record them/);
    expect(w.provider.userById(user.id)?.roles).toEqual(['admin']);
    expect(w.provider.methodsCalled()).toEqual(['setUserRoles']);
  });

  it('an unknown user is 404 AUTH_USER_NOT_FOUND', async () => {
    const w = world();
    const err = await apiErrorOf(w.service.setRolesForBranch(w.caller, BRANCH_ID, 'user-nobody', ['admin']));
    expect(err.code).toBe(ErrorCode.AuthUserNotFound);
    expect(w.usersSync.calls).toEqual([]);
  });
});
