import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { StackUsersService } from '../../src/stack-auth/users/stack-users.service.js';
import { requestFrom } from '../helpers/from-address.js';
import { clientHeaders, createStackProject, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

/**
 * `0` turns a limit off, and only that one: here the per-account and the API-key limits are off, the per-address
 * limit of the provider is on (3).
 */
const PER_ADDRESS = 3;

describe('throttling limits set to 0', () => {
  let t: TestApp;
  let p: StackTestProject;

  beforeAll(async () => {
    t = await startTestApp({
      STACK_AUTH_RATE_LIMIT_PER_ACCOUNT: '0',
      STACK_AUTH_RATE_LIMIT_PER_IP: String(PER_ADDRESS),
      STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS: '600',
      API_KEY_RATE_LIMIT_PER_IP: '0',
    });
    p = await createStackProject(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const signIn = (from: string, body: { email: string; password: string }) =>
    requestFrom(from, 'POST', `${t.baseUrl}/stack-auth/api/v1/auth/password/sign-in`, { headers: clientHeaders(p), body });
  const counters = async (prefix: string) =>
    Number((await adminQuery<{ n: string }>('SELECT count(*) AS n FROM rate_limits WHERE key LIKE $1', [`${prefix}:%`], t.database))[0].n);

  it('STACK_AUTH_RATE_LIMIT_PER_ACCOUNT=0: an account is never locked, while each address keeps its own limit', async () => {
    const user = 'never-locked@example.com';
    await t.app.get(StackUsersService).create(p.projectId, { primary_email: user, primary_email_auth_enabled: true, password: 'correct-horse-battery' });
    const addresses = ['127.0.0.41', '127.0.0.42', '127.0.0.43', '127.0.0.44'];
    // Twelve wrong passwords for one account, three per address: each answered on its merits.
    for (const from of addresses) {
      for (let i = 0; i < PER_ADDRESS; i++) expect((await signIn(from, { email: user, password: 'wrong-password' })).headers['x-stack-known-error']).toBe('EMAIL_PASSWORD_MISMATCH');
    }
    expect((await signIn('127.0.0.45', { email: user, password: 'correct-horse-battery' })).status).toBe(200);
    // The per-address limit (not 0) still holds.
    const refused = await signIn(addresses[0], { email: user, password: 'correct-horse-battery' });
    expect([refused.status, Number(refused.headers['retry-after']) >= 1]).toEqual([429, true]);
    expect(await counters('stack_sign_in_account')).toBe(0);
    expect(await counters('stack_sign_in_ip')).toBe(addresses.length + 1);
  });

  it('API_KEY_RATE_LIMIT_PER_IP=0: bad keys are never throttled, and nothing is counted', async () => {
    const from = '127.0.0.46';
    const me = (key: string) => requestFrom(from, 'GET', `${t.apiUrl}/users/me`, { headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 40; i++) expect((await me(generateApiKeySecret())).status).toBe(401);
    expect((await me(t.adminKey)).status).toBe(200);
    expect(await counters('api_key_failures_ip')).toBe(0);
  });
});
