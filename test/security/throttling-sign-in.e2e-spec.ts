import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { StackSessionEntity } from '../../src/stack-auth/entities/stack-session.entity.js';
import { StackUserEntity } from '../../src/stack-auth/entities/stack-user.entity.js';
import { StackUsersService } from '../../src/stack-auth/users/stack-users.service.js';
import { requestFrom, type RawResponse } from '../helpers/from-address.js';
import { cleanupServers, makeTempDir, startServer } from '../helpers/server-process.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery, testAdminUrl } from '../helpers/test-db.js';

/**
 * Brute force against the embedded provider's password routes is throttled (README, Brute-force throttling): small
 * limits through the environment, and each test plays its clients from addresses of its own in 127.0.0.0/8.
 */
const PER_ACCOUNT = 3;
const PER_ADDRESS = 8;
const WINDOW_SECONDS = 600;
const LIMITS = {
  STACK_AUTH_RATE_LIMIT_PER_ACCOUNT: String(PER_ACCOUNT),
  STACK_AUTH_RATE_LIMIT_PER_IP: String(PER_ADDRESS),
  STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
};
const PASSWORD = 'correct-horse-battery';
const WRONG = 'wrong-password-1';

describe('embedded provider: sign-in and sign-up are throttled', () => {
  let t: TestApp;
  let p: StackTestProject;
  let db: DataSource;
  let seq = 0;
  const secretsKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS, SECRETS_KEY: secretsKey });
    p = await createStackProject(t);
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await cleanupServers();
    await t?.close();
  });

  const email = (tag: string) => `${tag}.${++seq}@example.com`;
  /** A user with PASSWORD, made directly (sign-ups are throttled too). */
  async function newUserWithEmail(proj: StackTestProject, address: string): Promise<string> {
    await t.app.get(StackUsersService).create(proj.projectId, { primary_email: address, primary_email_auth_enabled: true, password: PASSWORD });
    return address;
  }
  const newUser = (tag: string) => newUserWithEmail(p, email(tag));
  const signIn = (from: string, body: { email: string; password: string }, options: { headers?: Record<string, string>; baseUrl?: string; proj?: StackTestProject } = {}) =>
    requestFrom(from, 'POST', `${options.baseUrl ?? t.baseUrl}/stack-auth/api/v1/auth/password/sign-in`, {
      headers: { ...clientHeaders(options.proj ?? p), ...options.headers },
      body,
    });
  const signUp = (from: string, body: { email: string; password: string }) =>
    requestFrom(from, 'POST', `${t.baseUrl}/stack-auth/api/v1/auth/password/sign-up`, { headers: clientHeaders(p), body });

  function expectMismatch(res: RawResponse): void {
    expect([res.status, res.headers['x-stack-known-error']]).toEqual([400, 'EMAIL_PASSWORD_MISMATCH']);
  }
  /** The provider's refusal: a plain-text 429 (no known error: the SDK knows none for it) with Retry-After. */
  function expectThrottled(res: RawResponse): void {
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_SECONDS).toBe(true);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['x-stack-known-error']).toBeUndefined();
    expect(res.text).toMatch(/^Too many attempts\. Try again in \d+ seconds\.$/);
    expect(res.headers['x-stack-request-id']).toEqual(expect.any(String));
  }

  it(`after ${PER_ACCOUNT} wrong passwords the account is locked for the window: 429 with Retry-After, the right password too, and nothing is compared`, async () => {
    const from = '127.0.0.11';
    const victim = await newUser('victim');
    for (let i = 0; i < PER_ACCOUNT; i++) expectMismatch(await signIn(from, { email: victim, password: `${WRONG}${i}` }));

    const compare = jest.spyOn(t.app.get(StackUsersService), 'passwordMatches');
    const sessions = await db.getRepository(StackSessionEntity).count();
    try {
      expectThrottled(await signIn(from, { email: victim, password: WRONG }));
      expectThrottled(await signIn(from, { email: victim, password: PASSWORD }));
      // The same account, however the e-mail is written.
      expectThrottled(await signIn(from, { email: victim.toUpperCase(), password: PASSWORD }));
      // As Stack Auth's SDK asks (override-error-status): 200 with the actual status, and Retry-After, which the SDK reads.
      const sdk = await signIn(from, { email: victim, password: PASSWORD }, { headers: { 'x-stack-override-error-status': 'true' } });
      expect([sdk.status, sdk.headers['x-stack-actual-status']]).toEqual([200, '429']);
      expect(Number(sdk.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(sdk.headers['x-stack-known-error']).toBeUndefined();
      expect(sdk.headers['access-control-expose-headers']).toMatch(/\bretry-after\b/);
      // A throttled request compared no password and opened no session.
      expect(compare).not.toHaveBeenCalled();
      expect(await db.getRepository(StackSessionEntity).count()).toBe(sessions);
    } finally {
      compare.mockRestore();
    }

    // From another address the account is locked all the same (the lock is the account's).
    expectThrottled(await signIn('127.0.0.19', { email: victim, password: PASSWORD }));
    // The same e-mail in another project is another account.
    const other = await createStackProject(t, 'Other project');
    await newUserWithEmail(other, victim);
    expect((await signIn('127.0.0.22', { email: victim, password: PASSWORD }, { proj: other })).status).toBe(200);
  });

  it('other accounts on the same address are limited only by the address\'s budget', async () => {
    const from = '127.0.0.12';
    const locked = await newUser('locked');
    for (let i = 0; i < PER_ACCOUNT; i++) expectMismatch(await signIn(from, { email: locked, password: WRONG })); // address: 3
    expectThrottled(await signIn(from, { email: locked, password: WRONG })); // address: 4

    // Another account signs in from the same address (and a success does not count against the address).
    const fine = await newUser('fine');
    expect((await signIn(from, { email: fine, password: PASSWORD })).status).toBe(200);
    // One failure each for four more accounts (none near its own limit) spends the address's budget ...
    for (let i = 0; i < PER_ADDRESS - 4; i++) expectMismatch(await signIn(from, { email: await newUser(`spray${i}`), password: WRONG }));
    // ... so an account that never failed is refused from this address, right password or not ...
    const untouched = await newUser('untouched');
    expectThrottled(await signIn(from, { email: untouched, password: PASSWORD }));
    expectThrottled(await signIn(from, { email: email('unknown'), password: WRONG }));
    // ... and signs in from another.
    expect((await signIn('127.0.0.13', { email: untouched, password: PASSWORD })).status).toBe(200);
  });

  it('a successful sign-in starts the account\'s count over', async () => {
    const from = '127.0.0.14';
    const user = await newUser('forgetful');
    for (let i = 0; i < PER_ACCOUNT - 1; i++) expectMismatch(await signIn(from, { email: user, password: WRONG }));
    expect((await signIn(from, { email: user, password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < PER_ACCOUNT; i++) expectMismatch(await signIn(from, { email: user, password: WRONG }));
    expectThrottled(await signIn(from, { email: user, password: PASSWORD }));
  });

  it('an unknown e-mail is locked like a known one (the lockout tells nothing about who exists)', async () => {
    const from = '127.0.0.15';
    const ghost = email('ghost');
    for (let i = 0; i < PER_ACCOUNT; i++) expectMismatch(await signIn(from, { email: ghost, password: WRONG }));
    expectThrottled(await signIn(from, { email: ghost, password: WRONG }));
  });

  it('server access: the account is locked too, but the application\'s backend address is not limited', async () => {
    const from = '127.0.0.16';
    // The address has spent its budget for client access.
    for (let i = 0; i < PER_ADDRESS; i++) expectMismatch(await signIn(from, { email: email('nobody'), password: WRONG }));
    const user = await newUser('backend');
    expectThrottled(await signIn(from, { email: user, password: PASSWORD }));
    // The same address with the secret server key (a backend signing its users in): its users can still sign in ...
    const server = { headers: serverHeaders(p) };
    expect((await signIn(from, { email: user, password: PASSWORD }, server)).status).toBe(200);
    // ... and each account is still locked after its own failures.
    for (let i = 0; i < PER_ACCOUNT; i++) expectMismatch(await signIn(from, { email: user, password: WRONG }, server));
    expectThrottled(await signIn(from, { email: user, password: PASSWORD }, server));
  });

  it('sign-up: every attempt counts, per e-mail and per address; a throttled one creates nothing', async () => {
    const users = db.getRepository(StackUserEntity);
    const same = email('twice');
    const from = '127.0.0.17';
    expect((await signUp(from, { email: same, password: PASSWORD })).status).toBe(200);
    for (let i = 1; i < PER_ACCOUNT; i++) expect((await signUp(from, { email: same, password: PASSWORD })).headers['x-stack-known-error']).toBe('USER_EMAIL_ALREADY_EXISTS');
    expectThrottled(await signUp(from, { email: same, password: PASSWORD }));

    const many = '127.0.0.18';
    for (let i = 0; i < PER_ADDRESS; i++) expect((await signUp(many, { email: email('bulk'), password: PASSWORD })).status).toBe(200);
    const refused = email('bulk');
    expectThrottled(await signUp(many, { email: refused, password: PASSWORD }));
    expect(await users.countBy({ projectId: p.projectId, primaryEmail: refused })).toBe(0);
    // Another address may still sign up.
    expect((await signUp('127.0.0.19', { email: refused, password: PASSWORD })).status).toBe(200);
  });

  it('the counts live in the control-plane database: a second server on it sees them', async () => {
    const second = await startServer({
      DATABASE_URL: t.config.databaseUrl,
      COMPUTE_DATABASE_URL: testAdminUrl(),
      DATA_DIR: makeTempDir(),
      SECRETS_KEY: secretsKey,
      LOG_LEVEL: 'info',
      ...LIMITS,
    });
    const from = '127.0.0.20';
    const user = await newUser('replicated');
    const servers = [t.baseUrl, second.baseUrl];
    for (let i = 0; i < PER_ACCOUNT; i++) expectMismatch(await signIn(from, { email: user, password: WRONG }, { baseUrl: servers[i % 2] }));
    for (const baseUrl of servers) expectThrottled(await signIn(from, { email: user, password: PASSWORD }, { baseUrl }));
    const rows = await adminQuery<{ key: string; points: number }>(`SELECT key, points FROM rate_limits WHERE key LIKE 'stack_sign_in_%' ORDER BY key`, [], t.database);
    expect(rows.some((r) => r.key.startsWith('stack_sign_in_account:') && r.points === PER_ACCOUNT + 2)).toBe(true);
    expect(rows).toContainEqual({ key: `stack_sign_in_ip:${from}`, points: PER_ACCOUNT + 2 });
    // No e-mail address is stored in the counters.
    expect(rows.map((r) => r.key).join(' ')).not.toContain('@');
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);
});
