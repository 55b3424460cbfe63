import { StackClientApp as StackClientApp108 } from '@stackframe/js';
import { accessTokenPayloadSchema } from '@stackframe/stack-shared/dist/schema-fields';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { StackClientApp as StackClientApp102 } from 'stackframe-js-2-8-102';
import { DataSource } from 'typeorm';
import { StackSessionEntity } from '../../src/stack-auth/entities/stack-session.entity.js';
import { StackUserEntity } from '../../src/stack-auth/entities/stack-user.entity.js';
import { createStackProject, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Both SDK versions' client apps: 2.8.108 speaks x-hexclave-*, 2.8.102 x-stack-* (reference §0 item 2). */
type ClientApp = InstanceType<typeof StackClientApp108>;
type ClientAppClass = new (options: { projectId: string; publishableClientKey: string; baseUrl: string; tokenStore: 'memory' }) => ClientApp;

const SDKS: [string, ClientAppClass][] = [
  ['@stackframe/js 2.8.108', StackClientApp108 as unknown as ClientAppClass],
  ['@stackframe/js 2.8.102', StackClientApp102 as unknown as ClientAppClass],
];

/**
 * Stack Auth's own SDK (client app) against the embedded provider, doing the call sequence of reference §8.10:
 * credential sign-up, current user, sign-out, sign-in, update (which forces a token refresh through
 * `POST /auth/oauth/token`), sign-out. Access tokens are verified with jose against the JWKS URL.
 */
describe.each(SDKS)('embedded provider: %s client app, password flows', (_name, StackClientApp) => {
  let t: TestApp;
  let p: StackTestProject;
  let db: DataSource;
  let seq = 0;
  const PASSWORD = 'hunter2-password';

  beforeAll(async () => {
    t = await startTestApp();
    p = await createStackProject(t);
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
  });

  const newApp = (proj: StackTestProject = p): ClientApp =>
    new StackClientApp({ projectId: proj.projectId, publishableClientKey: proj.publishableClientKey, baseUrl: proj.baseUrl, tokenStore: 'memory' });
  const email = (tag: string) => `${tag}.${++seq}.${Date.now()}@example.com`;

  async function verifyAccessToken(token: string | null) {
    expect(token).toEqual(expect.any(String));
    const jwks = createRemoteJWKSet(new URL(`${p.baseUrl}/api/v1/projects/${p.projectId}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token!, jwks, { issuer: `${p.baseUrl}/api/v1/projects/${p.projectId}`, audience: p.projectId, algorithms: ['ES256'] });
    await accessTokenPayloadSchema.validate(payload, { strict: true });
    return payload;
  }

  it('signs up, reads the current user, signs out, signs in, updates, refreshes and signs out', async () => {
    const app = newApp();
    const address = email('alice');

    const signedUp = await app.signUpWithCredential({ email: address, password: PASSWORD, noVerificationCallback: true });
    expect(signedUp.status).toBe('ok');
    const user = await app.getUser();
    expect(user).not.toBeNull();
    expect(user!.primaryEmail).toBe(address);
    expect(user!.primaryEmailVerified).toBe(false);
    expect(user!.hasPassword).toBe(true);
    const firstClaims = await verifyAccessToken(await user!.getAccessToken());
    expect(firstClaims).toMatchObject({ sub: user!.id, email: address, project_id: p.projectId });
    const firstRefresh = await user!.getRefreshToken();
    expect(firstRefresh).toMatch(/^[0-9a-hjkmnp-tv-z]{45}$/);

    await app.signOut();
    expect(await db.getRepository(StackSessionEntity).countBy({ id: firstClaims.refresh_token_id as string })).toBe(0);
    expect(await app.getUser()).toBeNull();

    const signedIn = await app.signInWithCredential({ email: address, password: PASSWORD, noRedirect: true });
    expect(signedIn.status).toBe('ok');
    const again = await app.getUser();
    expect(again?.id).toBe(user!.id);
    const beforeUpdate = await again!.getAccessToken();
    const sessionClaims = await verifyAccessToken(beforeUpdate);
    expect(sessionClaims.refresh_token_id).not.toBe(firstClaims.refresh_token_id);
    expect(sessionClaims.name).toBeNull();

    await again!.update({ displayName: 'Alice B' });
    const updated = await app.getUser();
    expect(updated?.displayName).toBe('Alice B');
    // After the update the SDK refreshed its access token (POST /auth/oauth/token): a new token of the
    // same session, carrying the new name.
    const afterUpdate = await updated!.getAccessToken();
    expect(afterUpdate).not.toBe(beforeUpdate);
    const refreshedClaims = await verifyAccessToken(afterUpdate);
    expect(refreshedClaims).toMatchObject({ name: 'Alice B', refresh_token_id: sessionClaims.refresh_token_id, sub: user!.id });
    expect((await db.getRepository(StackUserEntity).findOneByOrFail({ id: user!.id })).displayName).toBe('Alice B');

    await app.signOut();
    expect(await app.getUser()).toBeNull();
    expect(await db.getRepository(StackSessionEntity).countBy({ userId: user!.id })).toBe(0);
  });

  it('a duplicate sign-up is the USER_EMAIL_ALREADY_EXISTS error result', async () => {
    const address = email('dup');
    expect((await newApp().signUpWithCredential({ email: address, password: PASSWORD, noVerificationCallback: true })).status).toBe('ok');
    const result = await newApp().signUpWithCredential({ email: address, password: 'another-password', noVerificationCallback: true });
    expect(result.status).toBe('error');
    if (result.status !== 'error') throw new Error('unreachable');
    expect(result.error.errorCode).toBe('USER_EMAIL_ALREADY_EXISTS');
    expect(await db.getRepository(StackUserEntity).countBy({ projectId: p.projectId, primaryEmail: address })).toBe(1);
  });

  it('a wrong password or an unknown e-mail is the EMAIL_PASSWORD_MISMATCH error result', async () => {
    const address = email('bob');
    expect((await newApp().signUpWithCredential({ email: address, password: PASSWORD, noVerificationCallback: true })).status).toBe('ok');
    for (const attempt of [
      { email: address, password: 'wrong-password' },
      { email: email('nobody'), password: PASSWORD },
    ]) {
      const app = newApp();
      const result = await app.signInWithCredential({ ...attempt, noRedirect: true });
      expect(result.status).toBe('error');
      if (result.status !== 'error') throw new Error('unreachable');
      expect(result.error.errorCode).toBe('EMAIL_PASSWORD_MISMATCH');
      expect(await app.getUser()).toBeNull();
    }
  });

  it('a too-short password is the PASSWORD_TOO_SHORT error result', async () => {
    const result = await newApp().signUpWithCredential({ email: email('short'), password: 'short', noVerificationCallback: true });
    expect(result.status).toBe('error');
    if (result.status !== 'error') throw new Error('unreachable');
    expect(result.error.errorCode).toBe('PASSWORD_TOO_SHORT');
  });

  it('a revoked session reads as signed out once its access token needs refreshing', async () => {
    const app = newApp();
    expect((await app.signUpWithCredential({ email: email('revoked'), password: PASSWORD, noVerificationCallback: true })).status).toBe('ok');
    const user = await app.getUser();
    const claims = decodeJwt((await user!.getAccessToken())!);
    await db.getRepository(StackSessionEntity).delete({ id: claims.refresh_token_id as string });
    // An update makes the SDK refresh; the token endpoint answers REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED.
    await user!.update({ displayName: 'Gone' });
    expect(await app.getUser()).toBeNull();
  });

  it('a client app with another project\'s key cannot sign up', async () => {
    const other = await createStackProject(t, 'Other');
    const app = new StackClientApp({ projectId: p.projectId, publishableClientKey: other.publishableClientKey, baseUrl: p.baseUrl, tokenStore: 'memory' });
    await expect(app.signUpWithCredential({ email: email('mallory'), password: PASSWORD, noVerificationCallback: true })).rejects.toThrow(/INVALID_PUBLISHABLE_CLIENT_KEY|publishable key is not valid/);
  });
});
