import { accessTokenPayloadSchema } from '@stackframe/stack-shared/dist/schema-fields';
import { usersCrudServerReadSchema } from '@stackframe/stack-shared/dist/interface/crud/users';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SecretsService } from '../../src/common/secrets.js';
import { StackProjectEntity, type StackProjectConfig } from '../../src/stack-auth/entities/stack-project.entity.js';
import { StackSessionEntity } from '../../src/stack-auth/entities/stack-session.entity.js';
import { StackSigningKeyEntity } from '../../src/stack-auth/entities/stack-signing-key.entity.js';
import { StackUserEntity } from '../../src/stack-auth/entities/stack-user.entity.js';
import { StackWebhookEndpointEntity, StackWebhookOutboxEntity } from '../../src/stack-auth/entities/stack-webhook.entity.js';
import { hashSecret } from '../../src/stack-auth/projects/stack-keys.js';
import { StackUsersService } from '../../src/stack-auth/users/stack-users.service.js';
import { clientHeaders, createStackProject, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { StackProjectsService } from '../../src/stack-auth/projects/stack-projects.service.js';

/**
 * The provider's client authentication flows over raw HTTP (reference §8): password sign-up and sign-in,
 * sessions and refresh tokens, the OAuth token endpoint, the REST refresh, sign-out, and the access-token
 * checks every client route applies.
 */
describe('embedded provider: client authentication flows', () => {
  let t: TestApp;
  let p: StackTestProject;
  let other: StackTestProject;
  let db: DataSource;
  let seq = 0;
  const PASSWORD = 'hunter2-password';

  beforeAll(async () => {
    t = await startTestApp();
    p = await createStackProject(t);
    other = await createStackProject(t, 'Other project');
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const email = (tag = 'user') => `${tag}.${++seq}@example.com`;
  const signUp = (body: Record<string, unknown>, proj: StackTestProject = p) => api().post('/auth/password/sign-up').set(clientHeaders(proj)).send(body);
  const signIn = (body: Record<string, unknown>, proj: StackTestProject = p) => api().post('/auth/password/sign-in').set(clientHeaders(proj)).send(body);
  const tokenGrant = (form: Record<string, string>) => api().post('/auth/oauth/token').type('form').send(form);
  const refreshForm = (refreshToken: string, proj: StackTestProject = p) => ({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: proj.projectId,
    client_secret: proj.publishableClientKey,
  });
  const countUsers = (proj: StackTestProject = p) => db.getRepository(StackUserEntity).countBy({ projectId: proj.projectId });
  const countSessions = (proj: StackTestProject = p) => db.getRepository(StackSessionEntity).countBy({ projectId: proj.projectId });

  async function setConfig(proj: StackTestProject, patch: Partial<StackProjectConfig>): Promise<void> {
    const repo = db.getRepository(StackProjectEntity);
    const project = await repo.findOneByOrFail({ id: proj.projectId });
    await repo.update(proj.projectId, { config: { ...project.config, ...patch } });
    // Written in SQL, past the provider's API: wait until the cached key checks (and their projects) are dropped.
    await t.app.get(StackProjectsService).settleChanges();
  }

  async function verifyToken(token: string, proj: StackTestProject = p) {
    const jwks = createRemoteJWKSet(new URL(`${proj.baseUrl}/api/v1/projects/${proj.projectId}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: `${proj.baseUrl}/api/v1/projects/${proj.projectId}`,
      audience: proj.projectId,
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: expect.any(String) });
    await accessTokenPayloadSchema.validate(payload, { strict: true });
    return payload;
  }

  /** An access token of `proj` signed with its real key, with any claims (e.g. a past `exp`). */
  async function mintToken(proj: StackTestProject, claims: Record<string, unknown>, iat: number, exp: number): Promise<string> {
    const key = await db.getRepository(StackSigningKeyEntity).findOneByOrFail({ projectId: proj.projectId });
    const privateJwk = JSON.parse(t.app.get(SecretsService).decrypt(key.privateJwkEncrypted, `stack-auth signing key ${key.kid}`)) as JWK;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(`${proj.baseUrl}/api/v1/projects/${proj.projectId}`)
      .setAudience(proj.projectId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(await importJWK(privateJwk, 'ES256'));
  }

  describe('POST /auth/password/sign-up', () => {
    it('creates the user as the server API does (same user.created event), opens a session and returns its tokens', async () => {
      const endpoint = await db.getRepository(StackWebhookEndpointEntity).save({
        projectId: p.projectId,
        url: 'http://127.0.0.1:9/unreachable',
        description: 'auth test',
        secretEncrypted: 'unused',
        disabledAt: null,
      });
      try {
        const address = email('Alice');
        const before = Date.now();
        const res = await signUp({ email: address, password: PASSWORD }).expect(200);
        expect(Object.keys(res.body).sort()).toEqual(['access_token', 'refresh_token', 'user_id']);
        expect(res.body.refresh_token).toMatch(/^[0-9a-hjkmnp-tv-z]{45}$/);

        const user = await db.getRepository(StackUserEntity).findOneByOrFail({ id: res.body.user_id });
        expect(user).toMatchObject({ projectId: p.projectId, primaryEmail: address.toLowerCase(), primaryEmailAuthEnabled: true, primaryEmailVerified: false });
        expect(user.passwordHash).toMatch(/^\$2[aby]\$/);

        // The refresh token is stored only as its hash, for 365 days.
        const sessions = await db.getRepository(StackSessionEntity).findBy({ userId: user.id });
        expect(sessions).toHaveLength(1);
        expect(sessions[0].refreshTokenHash).toBe(hashSecret(res.body.refresh_token));
        const rows = await db.query(`SELECT * FROM stack_auth.sessions WHERE user_id = $1`, [user.id]);
        expect(JSON.stringify(rows)).not.toContain(res.body.refresh_token);
        const lifetimeDays = (sessions[0].expiresAt.getTime() - before) / 86_400_000;
        expect(lifetimeDays).toBeGreaterThan(364.99);
        expect(lifetimeDays).toBeLessThan(365.01);

        const claims = await verifyToken(res.body.access_token);
        expect(claims).toMatchObject({
          sub: user.id,
          project_id: p.projectId,
          branch_id: 'main',
          refresh_token_id: sessions[0].id,
          role: 'authenticated',
          email: address.toLowerCase(),
          email_verified: false,
          is_anonymous: false,
          is_restricted: false,
          restricted_reason: null,
          requires_totp_mfa: false,
        });
        expect(claims.exp! - claims.iat!).toBe(600);

        const events = await db.getRepository(StackWebhookOutboxEntity).findBy({ endpointId: endpoint.id, orderingKey: user.id });
        expect(events.map((e) => e.eventType)).toEqual(['user.created']);
        const data = await usersCrudServerReadSchema.validate(events[0].payload.data, { strict: true });
        expect(data).toMatchObject({ id: user.id, primary_email: address.toLowerCase(), primary_email_auth_enabled: true, has_password: true });
      } finally {
        await db.getRepository(StackWebhookEndpointEntity).delete(endpoint.id);
      }
    });

    it('works with the x-hexclave-* header family and accepts (and ignores) the bot-challenge fields', async () => {
      await api()
        .post('/auth/password/sign-up')
        .set(clientHeaders(p, 'hexclave'))
        .send({ email: email(), password: PASSWORD, bot_challenge_token: 'tok', bot_challenge_phase: 'invisible' })
        .expect(200);
      await signUp({ email: email(), password: PASSWORD, bot_challenge_unavailable: 'true' }).expect(200);
      await signUp({ email: email(), password: PASSWORD, turnstile_token: 'x', turnstile_phase: 'visible', turnstile_previous_result: 'ok' }).expect(200);
    });

    it('a duplicate sign-in e-mail (in any case) is 409 USER_EMAIL_ALREADY_EXISTS and creates nothing', async () => {
      const address = email('dup');
      await signUp({ email: address, password: PASSWORD }).expect(200);
      const [users, sessions] = [await countUsers(), await countSessions()];
      const res = await signUp({ email: address.toUpperCase(), password: 'another-password' }).expect(409);
      expect(res.headers['x-stack-known-error']).toBe('USER_EMAIL_ALREADY_EXISTS');
      expect(res.body).toEqual({
        code: 'USER_EMAIL_ALREADY_EXISTS',
        details: { email: address, would_work_if_email_was_verified: false },
        error: expect.any(String),
      });
      expect([await countUsers(), await countSessions()]).toEqual([users, sessions]);
    });

    it('the same e-mail may sign up in another project', async () => {
      const address = email('twice');
      await signUp({ email: address, password: PASSWORD }).expect(200);
      await signUp({ email: address, password: PASSWORD }, other).expect(200);
    });

    it('applies its checks in Stack Auth\'s order, each with its code, and creates nothing', async () => {
      const proj = await createStackProject(t, 'Order project');
      const untrusted = 'https://evil.example.net/handler/email-verification';
      const trusted = 'http://localhost:3000/handler/email-verification';
      const expectCode = async (body: Record<string, unknown>, status: number, code: string) => {
        const res = await signUp(body, proj).expect(status);
        expect(res.body.code).toBe(code);
        return res.body;
      };
      const everythingWrong = { email: email(), password: 'short', verification_callback_url: untrusted };

      await setConfig(proj, { credential_enabled: false, sign_up_enabled: false });
      await expectCode(everythingWrong, 400, 'PASSWORD_AUTHENTICATION_NOT_ENABLED');
      await setConfig(proj, { credential_enabled: true });
      const notWhitelisted = await expectCode(everythingWrong, 400, 'REDIRECT_URL_NOT_WHITELISTED');
      expect(notWhitelisted.details).toEqual({ redirect_url: untrusted });
      await expectCode({ ...everythingWrong, verification_callback_url: trusted }, 400, 'SIGN_UP_NOT_ENABLED');
      await expectCode({ ...everythingWrong, verification_callback_url: undefined }, 400, 'SIGN_UP_NOT_ENABLED');
      await setConfig(proj, { sign_up_enabled: true });
      expect(await expectCode({ ...everythingWrong, verification_callback_url: trusted }, 400, 'PASSWORD_TOO_SHORT')).toMatchObject({ details: { min_length: 8 } });
      expect(await expectCode({ email: email(), password: '' }, 400, 'PASSWORD_TOO_SHORT')).toMatchObject({ details: { min_length: 8 } });
      expect(await expectCode({ email: email(), password: 'x'.repeat(7) }, 400, 'PASSWORD_TOO_SHORT')).toMatchObject({ details: { min_length: 8 } });
      expect(await expectCode({ email: email(), password: 'x'.repeat(71) }, 400, 'PASSWORD_TOO_LONG')).toMatchObject({ details: { maxLength: 70 } });
      expect(await countUsers(proj)).toBe(0);

      await signUp({ email: email(), password: 'x'.repeat(8), verification_callback_url: trusted }, proj).expect(200);
      await signUp({ email: email(), password: 'x'.repeat(70) }, proj).expect(200);
      expect(await countUsers(proj)).toBe(2);
    });

    it('trusts callback URLs on the project\'s domains, and on localhost only when allow_localhost', async () => {
      const proj = await createStackProject(t, 'Domains project');
      await setConfig(proj, {
        allow_localhost: false,
        domains: [
          { domain: 'https://app.example.com', handler_path: '/handler' },
          { domain: 'https://*.example.org', handler_path: '/' },
        ],
      });
      const cases: [string, boolean][] = [
        ['https://app.example.com/handler/email-verification', true],
        ['https://app.example.com:443/handler/x?code=1', true],
        ['https://app.example.com/elsewhere', false],
        ['http://app.example.com/handler/email-verification', false],
        ['https://app.example.com:8443/handler/email-verification', false],
        ['https://evil.com/handler', false],
        ['https://app.example.com.evil.com/handler', false],
        ['https://shop.example.org/any/path', true],
        ['https://a.b.example.org/x', false],
        ['http://localhost:3000/handler', false],
        ['http://127.0.0.1/handler', false],
      ];
      for (const [url, ok] of cases) {
        const res = await signUp({ email: email(), password: PASSWORD, verification_callback_url: url }, proj);
        expect({ url, status: res.status, code: res.body.code }).toEqual(ok ? { url, status: 200, code: undefined } : { url, status: 400, code: 'REDIRECT_URL_NOT_WHITELISTED' });
      }
      await setConfig(proj, { allow_localhost: true });
      for (const url of ['http://localhost:3000/x', 'http://127.0.0.1:8080/x', 'http://app.localhost/x', 'http://[::1]:3000/x']) {
        await signUp({ email: email(), password: PASSWORD, verification_callback_url: url }, proj).expect(200);
      }
    });

    it.each([
      ['no body', undefined],
      ['no email', { password: PASSWORD }],
      ['no password', { email: 'x@example.com' }],
      ['an e-mail that is a number', { email: 42, password: PASSWORD }],
      ['a null e-mail', { email: null, password: PASSWORD }],
      ['a password that is not a string', { email: 'x@example.com', password: 12345678 }],
      ['test@localhost', { email: 'test@localhost', password: PASSWORD }],
      ['test@gmail.a', { email: 'test@gmail.a', password: PASSWORD }],
      ['a..b@example.com', { email: 'a..b@example.com', password: PASSWORD }],
      ['.a@example.com', { email: '.a@example.com', password: PASSWORD }],
      ['an e-mail with spaces', { email: 'a b@example.com', password: PASSWORD }],
      ['an e-mail of 257 characters', { email: `${'a'.repeat(245)}@example.com`, password: PASSWORD }],
      ['an e-mail of 100k characters', { email: `${'a.'.repeat(50_000)}@x.com`, password: PASSWORD }],
      ['a callback that is not a URL', { email: 'x@example.com', password: PASSWORD, verification_callback_url: 'not a url' }],
      ['a callback that is a relative path', { email: 'x@example.com', password: PASSWORD, verification_callback_url: '/handler' }],
      ['an oversize callback', { email: 'x@example.com', password: PASSWORD, verification_callback_url: `http://localhost/${'a'.repeat(5000)}` }],
      ['a bad bot-challenge phase', { email: 'x@example.com', password: PASSWORD, bot_challenge_phase: 'sideways' }],
      ['an unknown field', { email: 'x@example.com', password: PASSWORD, display_name: 'Mallory' }],
      ['a NUL character', { email: 'x@example.com', password: 'pass\u0000word' }],
    ])('400 SCHEMA_ERROR for %s', async (_name, body) => {
      const before = await countUsers();
      const req = api().post('/auth/password/sign-up').set(clientHeaders(p));
      const res = await (body === undefined ? req : req.send(body as object)).expect(400);
      expect(res.headers['x-stack-known-error']).toBe('SCHEMA_ERROR');
      expect(res.body.error).toMatch(/^Request validation failed on POST \/stack-auth\/api\/v1\/auth\/password\/sign-up:/);
      expect(await countUsers()).toBe(before);
    });

    it('a 256-character e-mail is accepted', async () => {
      const address = `${'b'.repeat(244)}@example.com`;
      expect(address).toHaveLength(256);
      await signUp({ email: address, password: PASSWORD }).expect(200);
    });

    it('malformed JSON is BODY_PARSING_ERROR and an oversize body is a 4xx', async () => {
      const bad = await api().post('/auth/password/sign-up').set(clientHeaders(p)).set('content-type', 'application/json').send('{"email":').expect(400);
      expect(bad.body.code).toBe('BODY_PARSING_ERROR');
      const huge = await api().post('/auth/password/sign-up').set(clientHeaders(p)).send({ email: 'x@example.com', password: 'p'.repeat(2 * 1024 * 1024) });
      expect(huge.status).toBeGreaterThanOrEqual(400);
      expect(huge.status).toBeLessThan(500);
    });

    it('needs this project\'s publishable client key', async () => {
      const body = { email: email(), password: PASSWORD };
      const cases: [Record<string, string>, number, string][] = [
        [{ 'x-stack-publishable-client-key': '' }, 401, 'PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT'],
        [{ 'x-stack-publishable-client-key': 'pck_wrong' }, 401, 'INVALID_PUBLISHABLE_CLIENT_KEY'],
        [{ 'x-stack-publishable-client-key': other.publishableClientKey }, 401, 'INVALID_PUBLISHABLE_CLIENT_KEY'],
        [{ 'x-stack-publishable-client-key': p.secretServerKey }, 401, 'INVALID_PUBLISHABLE_CLIENT_KEY'],
        [{ 'x-stack-access-type': 'root' }, 400, 'INVALID_ACCESS_TYPE'],
        [{ 'x-stack-project-id': '00000000-0000-4000-8000-000000000000' }, 400, 'CURRENT_PROJECT_NOT_FOUND'],
      ];
      for (const [headers, status, code] of cases) {
        const res = await api().post('/auth/password/sign-up').set({ ...clientHeaders(p), ...headers }).send(body).expect(status);
        expect(res.body.code).toBe(code);
      }
      const noHeaders = await api().post('/auth/password/sign-up').send(body).expect(400);
      expect(noHeaders.body.code).toBe('ACCESS_TYPE_REQUIRED');
      expect(await db.getRepository(StackUserEntity).countBy({ primaryEmail: body.email })).toBe(0);
    });
  });

  describe('POST /auth/password/sign-in', () => {
    let address: string;
    let userId: string;
    beforeAll(async () => {
      address = email('signin');
      userId = (await signUp({ email: address, password: PASSWORD }).expect(200)).body.user_id;
    });

    it('opens a new session on every sign-in, e-mail matched case-insensitively', async () => {
      const before = await db.getRepository(StackSessionEntity).countBy({ userId });
      const a = (await signIn({ email: address, password: PASSWORD }).expect(200)).body;
      const b = (await signIn({ email: address.toUpperCase(), password: PASSWORD }).expect(200)).body;
      expect(Object.keys(a).sort()).toEqual(['access_token', 'refresh_token', 'user_id']);
      expect(a.user_id).toBe(userId);
      expect(b.user_id).toBe(userId);
      expect(a.refresh_token).not.toBe(b.refresh_token);
      const [ca, cb] = [await verifyToken(a.access_token), await verifyToken(b.access_token)];
      expect(ca.refresh_token_id).not.toBe(cb.refresh_token_id);
      expect(await db.getRepository(StackSessionEntity).countBy({ userId })).toBe(before + 2);
    });

    it('unknown e-mail and wrong password are the same EMAIL_PASSWORD_MISMATCH', async () => {
      const wrong = await signIn({ email: address, password: 'wrong-password' }).expect(400);
      const unknown = await signIn({ email: email('nobody'), password: PASSWORD }).expect(400);
      expect(wrong.headers['x-stack-known-error']).toBe('EMAIL_PASSWORD_MISMATCH');
      expect(wrong.body).toEqual({ code: 'EMAIL_PASSWORD_MISMATCH', error: 'Wrong e-mail or password.' });
      expect(unknown.body).toEqual(wrong.body);
      const otherProject = await signIn({ email: address, password: PASSWORD }, other).expect(400);
      expect(otherProject.body.code).toBe('EMAIL_PASSWORD_MISMATCH');
    });

    it('takes as long for an unknown e-mail as for a wrong password (a hash is compared either way)', async () => {
      const time = async (body: Record<string, unknown>) => {
        const start = process.hrtime.bigint();
        await signIn(body).expect(400);
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        wrong.push(await time({ email: address, password: 'wrong-password' }));
        unknown.push(await time({ email: email('ghost'), password: 'wrong-password' }));
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[2];
      // Without the dummy comparison an unknown e-mail answers about ten times faster.
      expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
    });

    it('a user whose e-mail is not used for sign-in, or who has no password, cannot sign in with it', async () => {
      const users = t.app.get(StackUsersService);
      const contactOnly = email('contact');
      await users.create(p.projectId, { primary_email: contactOnly, primary_email_auth_enabled: false, password: PASSWORD });
      expect((await signIn({ email: contactOnly, password: PASSWORD }).expect(400)).body.code).toBe('EMAIL_PASSWORD_MISMATCH');
      const noPassword = email('nopass');
      await users.create(p.projectId, { primary_email: noPassword, primary_email_auth_enabled: true, otp_auth_enabled: true });
      expect((await signIn({ email: noPassword, password: PASSWORD }).expect(400)).body.code).toBe('EMAIL_PASSWORD_MISMATCH');
      expect((await signIn({ email: noPassword, password: '' }).expect(400)).body.code).toBe('EMAIL_PASSWORD_MISMATCH');
    });

    it('needs password authentication enabled, but not sign-up', async () => {
      const proj = await createStackProject(t, 'Sign-in config');
      const addr = email();
      await signUp({ email: addr, password: PASSWORD }, proj).expect(200);
      await setConfig(proj, { sign_up_enabled: false });
      await signIn({ email: addr, password: PASSWORD }, proj).expect(200);
      await setConfig(proj, { credential_enabled: false });
      expect((await signIn({ email: addr, password: PASSWORD }, proj).expect(400)).body.code).toBe('PASSWORD_AUTHENTICATION_NOT_ENABLED');
    });

    it.each([
      ['an empty e-mail', { email: '', password: PASSWORD }],
      ['a non-e-mail', { email: 'alice', password: PASSWORD }],
      ['a password over 70 characters', { email: 'x@example.com', password: 'x'.repeat(71) }],
      ['no password', { email: 'x@example.com' }],
      ['an unknown field', { email: 'x@example.com', password: PASSWORD, remember_me: true }],
    ])('400 SCHEMA_ERROR for %s', async (_name, body) => {
      const res = await signIn(body).expect(400);
      expect(res.body.code).toBe('SCHEMA_ERROR');
    });
  });

  describe('POST /auth/oauth/token (the SDK\'s refresh)', () => {
    let session: { access_token: string; refresh_token: string; user_id: string };
    let oauthEmail: string;
    beforeAll(async () => {
      oauthEmail = email('oauth');
      session = (await signUp({ email: oauthEmail, password: PASSWORD }).expect(200)).body;
    });

    it('form-encoded, with no x-stack headers: a fresh access token of the same session; no rotation', async () => {
      const first = await tokenGrant(refreshForm(session.refresh_token)).expect(200);
      expect(first.headers['content-type']).toMatch(/^application\/json/);
      expect(first.headers['cache-control']).toBe('no-store, max-age=0');
      expect(first.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'legacy' });
      const claims = await verifyToken(first.body.access_token);
      expect(claims.sub).toBe(session.user_id);
      expect(claims.refresh_token_id).toBe(decodeJwt(session.access_token).refresh_token_id);
      // Not rotated: the same refresh token keeps working.
      await tokenGrant(refreshForm(session.refresh_token)).expect(200);
      // The client id may name the branch.
      await tokenGrant({ ...refreshForm(session.refresh_token), client_id: `${p.projectId}#main` }).expect(200);
      // As the SDK sends it: charset in the content type.
      await api()
        .post('/auth/oauth/token')
        .set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8')
        .send(new URLSearchParams(refreshForm(session.refresh_token)).toString())
        .expect(200);
    });

    it('client authentication: project id + publishable client key', async () => {
      const expectCode = async (form: Record<string, string>, status: number, code: string) => {
        const res = await tokenGrant(form).expect(status);
        expect(res.headers['x-stack-known-error']).toBe(code);
        expect(res.body.code).toBe(code);
      };
      const form = refreshForm(session.refresh_token);
      await expectCode({ ...form, client_secret: 'pck_wrong' }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_secret: other.publishableClientKey }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_secret: p.secretServerKey }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_secret: '__stack_public_client__' }, 401, 'PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT');
      const { client_secret: _s, ...noSecret } = form;
      await expectCode(noSecret, 401, 'PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT');
      const { client_id: _c, ...noClient } = form;
      await expectCode(noClient, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_id: '00000000-0000-4000-8000-000000000000' }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_id: 'not-a-project' }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_id: `${p.projectId}#dev` }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      await expectCode({ ...form, client_id: `${p.projectId}#main#x` }, 400, 'INVALID_OAUTH_CLIENT_ID_OR_SECRET');
      // The other project's own client cannot use this project's refresh token.
      await expectCode(refreshForm(session.refresh_token, other), 401, 'REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
    });

    it('unknown, expired, revoked refresh tokens and tokens of deleted users are REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED', async () => {
      const expectGone = async (refreshToken: string) => {
        const res = await tokenGrant(refreshForm(refreshToken)).expect(401);
        expect(res.body.code).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      };
      await expectGone('0'.repeat(45));
      await expectGone(`${session.refresh_token}x`);

      const expiring = (await signIn({ email: oauthEmail, password: PASSWORD }).expect(200)).body;
      await db.getRepository(StackSessionEntity).update({ refreshTokenHash: hashSecret(expiring.refresh_token) }, { expiresAt: new Date(Date.now() - 1000) });
      await expectGone(expiring.refresh_token);

      const revoked = (await signUp({ email: email(), password: PASSWORD }).expect(200)).body;
      await db.getRepository(StackSessionEntity).update({ refreshTokenHash: hashSecret(revoked.refresh_token) }, { revokedAt: new Date() });
      await expectGone(revoked.refresh_token);

      const deleted = (await signUp({ email: email(), password: PASSWORD }).expect(200)).body;
      await tokenGrant(refreshForm(deleted.refresh_token)).expect(200);
      await db.getRepository(StackUserEntity).delete({ id: deleted.user_id });
      await expectGone(deleted.refresh_token);

      // The live session is unaffected.
      await tokenGrant(refreshForm(session.refresh_token)).expect(200);
    });

    it('OAuth-style 400s for an unsupported or missing grant type and a missing refresh token', async () => {
      const form = refreshForm(session.refresh_token);
      const unsupported = await tokenGrant({ ...form, grant_type: 'password' }).expect(400);
      expect(unsupported.body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
      expect((await tokenGrant({ ...form, grant_type: 'authorization_code' }).expect(400)).body.error).toBe('unsupported_grant_type');
      const { grant_type: _g, ...noGrant } = form;
      expect((await tokenGrant(noGrant).expect(400)).body.error).toBe('invalid_request');
      const { refresh_token: _r, ...noToken } = form;
      expect((await tokenGrant(noToken).expect(400)).body).toEqual({ error: 'invalid_request', error_description: 'Missing parameter: `refresh_token`' });
      // A repeated parameter is not a value.
      const repeated = `${new URLSearchParams(form).toString()}&refresh_token=${session.refresh_token}`;
      expect((await api().post('/auth/oauth/token').type('form').send(repeated).expect(400)).body.error).toBe('invalid_request');
      expect((await api().post('/auth/oauth/token').expect(400)).body.error).toBe('invalid_request');
    });

    it('bad bodies are 4xx, never 500', async () => {
      const huge = await tokenGrant({ ...refreshForm(session.refresh_token), refresh_token: 'r'.repeat(2 * 1024 * 1024) });
      expect(huge.status).toBeGreaterThanOrEqual(400);
      expect(huge.status).toBeLessThan(500);
      const longButAccepted = await tokenGrant({ ...refreshForm('r'.repeat(100_000)) }).expect(401);
      expect(longButAccepted.body.code).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      await tokenGrant({ ...refreshForm(session.refresh_token), refresh_token: 'a\u0000b' }).expect(400);
      const json = await api().post('/auth/oauth/token').set('content-type', 'application/json').send('{"grant_type":').expect(400);
      expect(json.body.code).toBe('BODY_PARSING_ERROR');
    });
  });

  describe('POST /auth/sessions/current/refresh', () => {
    it('returns {access_token} for the refresh token of the x-stack-refresh-token header (both families)', async () => {
      const s = (await signUp({ email: email('rest'), password: PASSWORD }).expect(200)).body;
      for (const prefix of ['stack', 'hexclave'] as const) {
        const res = await api()
          .post('/auth/sessions/current/refresh')
          .set({ ...clientHeaders(p, prefix), [`x-${prefix}-refresh-token`]: s.refresh_token })
          .expect(200);
        expect(Object.keys(res.body)).toEqual(['access_token']);
        expect((await verifyToken(res.body.access_token)).refresh_token_id).toBe(decodeJwt(s.access_token).refresh_token_id);
      }
    });

    it('unknown tokens are 401, a missing header is SCHEMA_ERROR, keys are checked', async () => {
      const s = (await signUp({ email: email('rest'), password: PASSWORD }).expect(200)).body;
      const unknown = await api().post('/auth/sessions/current/refresh').set({ ...clientHeaders(p), 'x-stack-refresh-token': 'nope' }).expect(401);
      expect(unknown.body.code).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      const foreign = await api().post('/auth/sessions/current/refresh').set({ ...clientHeaders(other), 'x-stack-refresh-token': s.refresh_token }).expect(401);
      expect(foreign.body.code).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      expect((await api().post('/auth/sessions/current/refresh').set(clientHeaders(p)).expect(400)).body.code).toBe('SCHEMA_ERROR');
      const wrongKey = await api()
        .post('/auth/sessions/current/refresh')
        .set({ ...clientHeaders(p), 'x-stack-publishable-client-key': other.publishableClientKey, 'x-stack-refresh-token': s.refresh_token })
        .expect(401);
      expect(wrongKey.body.code).toBe('INVALID_PUBLISHABLE_CLIENT_KEY');
    });
  });

  describe('DELETE /auth/sessions/current (sign-out)', () => {
    it('ends the access token\'s session at once; the user\'s other sessions live on', async () => {
      const addr = email('signout');
      const a = (await signUp({ email: addr, password: PASSWORD }).expect(200)).body;
      const b = (await signIn({ email: addr, password: PASSWORD }).expect(200)).body;
      const res = await api()
        .delete('/auth/sessions/current')
        .set({ ...clientHeaders(p), 'x-stack-access-token': a.access_token, 'x-stack-refresh-token': a.refresh_token })
        .send({})
        .expect(200);
      expect(res.body).toEqual({ success: true });
      expect(await db.getRepository(StackSessionEntity).countBy({ id: decodeJwt(a.access_token).refresh_token_id as string })).toBe(0);
      expect((await tokenGrant(refreshForm(a.refresh_token)).expect(401)).body.code).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      await api().post('/auth/sessions/current/refresh').set({ ...clientHeaders(p), 'x-stack-refresh-token': a.refresh_token }).expect(401);
      // Signing out again: the session is gone.
      const again = await api().delete('/auth/sessions/current').set({ ...clientHeaders(p), 'x-stack-access-token': a.access_token }).send({}).expect(401);
      expect(again.body.code).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      await tokenGrant(refreshForm(b.refresh_token)).expect(200);
      // Only the access token is needed (hexclave family, no body).
      await api().delete('/auth/sessions/current').set({ ...clientHeaders(p, 'hexclave'), 'x-hexclave-access-token': b.access_token }).expect(200);
      await tokenGrant(refreshForm(b.refresh_token)).expect(401);
    });

    it('without an access token: 401 ACCESS_TOKEN_EXPIRED', async () => {
      const res = await api().delete('/auth/sessions/current').set(clientHeaders(p)).send({}).expect(401);
      expect(res.body.code).toBe('ACCESS_TOKEN_EXPIRED');
    });
  });

  describe('access tokens on client routes (§8.1)', () => {
    let s: { access_token: string; refresh_token: string; user_id: string };
    let addr: string;
    beforeAll(async () => {
      addr = email('tokens');
      s = (await signUp({ email: addr, password: PASSWORD }).expect(200)).body;
    });
    const withToken = (token: string, proj: StackTestProject = p) =>
      api().delete('/auth/sessions/current').set({ ...clientHeaders(proj), 'x-stack-access-token': token }).send({});
    const expectTokenError = async (token: string, code: string) => {
      const res = await withToken(token).expect(401);
      expect(res.body.code).toBe(code);
      // Checked on every route that takes client access, sign-in included.
      const signInRes = await api().post('/auth/password/sign-in').set({ ...clientHeaders(p), 'x-stack-access-token': token }).send({ email: addr, password: PASSWORD }).expect(401);
      expect(signInRes.body.code).toBe(code);
    };

    it('garbage and tampered tokens are UNPARSABLE_ACCESS_TOKEN', async () => {
      await expectTokenError('garbage', 'UNPARSABLE_ACCESS_TOKEN');
      await expectTokenError('a.b.c', 'UNPARSABLE_ACCESS_TOKEN');
      const [h, payload, sig] = s.access_token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
      await expectTokenError(`${h}.${forgedPayload}.${sig}`, 'UNPARSABLE_ACCESS_TOKEN');
      const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
      await expectTokenError(`${h}.${payload}.${flipped}`, 'UNPARSABLE_ACCESS_TOKEN');
      // alg "none" with the project's kid, and a token signed by an attacker's key under the project's kid.
      const kid = decodeProtectedHeader(s.access_token).kid!;
      const none = Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url');
      await expectTokenError(`${none}.${payload}.`, 'UNPARSABLE_ACCESS_TOKEN');
      const attacker = await generateKeyPair('ES256');
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(attacker.privateKey);
      await expectTokenError(forged, 'UNPARSABLE_ACCESS_TOKEN');
      // The other project's kid on a forged token is not "another project's token".
      const otherKid = (await db.getRepository(StackSigningKeyEntity).findOneByOrFail({ projectId: other.projectId })).kid;
      await expectTokenError(await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: otherKid }).sign(attacker.privateKey), 'UNPARSABLE_ACCESS_TOKEN');
      // A kid that is not a string, or an HS256 token keyed with the public JWK.
      const objKid = Buffer.from(JSON.stringify({ alg: 'ES256', kid: { $ne: null } })).toString('base64url');
      await expectTokenError(`${objKid}.${payload}.${sig}`, 'UNPARSABLE_ACCESS_TOKEN');
      const pub = (await db.getRepository(StackSigningKeyEntity).findOneByOrFail({ kid })).publicJwk;
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(JSON.stringify(pub)));
      await expectTokenError(hs, 'UNPARSABLE_ACCESS_TOKEN');
      // Wrong issuer or audience, validly signed.
      const now = Math.floor(Date.now() / 1000);
      const { iss: _i, aud: _a, iat: _t, exp: _e, ...custom } = claims;
      const key = await db.getRepository(StackSigningKeyEntity).findOneByOrFail({ projectId: p.projectId });
      const jwk = JSON.parse(t.app.get(SecretsService).decrypt(key.privateJwkEncrypted, `stack-auth signing key ${key.kid}`)) as JWK;
      const badAud = await new SignJWT(custom).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(claims.iss).setAudience(`${p.projectId}:anon`).setIssuedAt(now).setExpirationTime(now + 600).sign(await importJWK(jwk, 'ES256'));
      await expectTokenError(badAud, 'UNPARSABLE_ACCESS_TOKEN');
    });

    it('an expired token is ACCESS_TOKEN_EXPIRED', async () => {
      const claims = decodeJwt(s.access_token);
      const { iss: _i, aud: _a, iat: _t, exp: _e, ...custom } = claims;
      const now = Math.floor(Date.now() / 1000);
      const expired = await mintToken(p, custom, now - 1200, now - 600);
      await expectTokenError(expired, 'ACCESS_TOKEN_EXPIRED');
      // The same claims, still valid, pass (so the failure above is the expiry).
      const fresh = await mintToken(p, custom, now, now + 600);
      await api().post('/auth/password/sign-in').set({ ...clientHeaders(p), 'x-stack-access-token': fresh }).send({ email: addr, password: PASSWORD }).expect(200);
    });

    it('a token of another project is INVALID_PROJECT_FOR_ACCESS_TOKEN', async () => {
      const theirs = (await signUp({ email: email('theirs'), password: PASSWORD }, other).expect(200)).body.access_token;
      await expectTokenError(theirs, 'INVALID_PROJECT_FOR_ACCESS_TOKEN');
      // ...and is fine on its own project.
      await withToken(theirs, other).expect(200);
    });

    it('issued tokens live 600 s (the SDK needs more than 20 s)', async () => {
      const claims = decodeJwt(s.access_token);
      expect(claims.exp! - claims.iat!).toBe(600);
    });

    it('the JWKS lists the signing key, public half only', async () => {
      const res = await api().get(`/projects/${p.projectId}/.well-known/jwks.json`).expect(200);
      expect(res.body.keys.map((k: JWK) => k.kid)).toContain(decodeProtectedHeader(s.access_token).kid);
      expect(JSON.stringify(res.body)).not.toContain('"d"');
    });
  });
});
