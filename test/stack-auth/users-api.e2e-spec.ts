import { currentUserCrud } from '@stackframe/stack-shared/dist/interface/crud/current-user';
import { usersCrudServerReadSchema } from '@stackframe/stack-shared/dist/interface/crud/users';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SessionsService } from '../../src/stack-auth/auth/sessions.service.js';
import { StackProjectEntity } from '../../src/stack-auth/entities/stack-project.entity.js';
import { StackSessionEntity } from '../../src/stack-auth/entities/stack-session.entity.js';
import { StackUserEntity } from '../../src/stack-auth/entities/stack-user.entity.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { StackProjectsService } from '../../src/stack-auth/projects/stack-projects.service.js';

/**
 * The users API over raw HTTP (reference §1.4–§1.7, §8.7): exact shapes validated with the SDK's own
 * schemas, list semantics, update rules, `/users/me` for client and server access, and bad input, which
 * must always be the documented 4xx and change nothing.
 */

const SERVER_KEYS = [
  'auth_with_email', 'client_metadata', 'client_read_only_metadata', 'country_code', 'display_name', 'has_password', 'id',
  'is_anonymous', 'is_restricted', 'last_active_at_millis', 'oauth_providers', 'otp_auth_enabled', 'passkey_auth_enabled',
  'primary_email', 'primary_email_auth_enabled', 'primary_email_verified', 'profile_image_url', 'requires_totp_mfa',
  'restricted_by_admin', 'restricted_by_admin_private_details', 'restricted_by_admin_reason', 'restricted_reason', 'risk_scores',
  'selected_team', 'selected_team_id', 'server_metadata', 'signed_up_at_millis',
];
const CLIENT_KEYS = [
  'auth_with_email', 'client_metadata', 'client_read_only_metadata', 'display_name', 'has_password', 'id', 'is_anonymous',
  'is_restricted', 'oauth_providers', 'otp_auth_enabled', 'passkey_auth_enabled', 'primary_email', 'primary_email_verified',
  'profile_image_url', 'requires_totp_mfa', 'restricted_by_admin', 'restricted_by_admin_reason', 'restricted_reason',
  'selected_team', 'selected_team_id', 'signed_up_at_millis',
];
const MISSING = '00000000-0000-4000-8000-000000000000';

type Json = Record<string, unknown>;

let t: TestApp;
let p: StackTestProject;
let other: StackTestProject;
let db: DataSource;
let seq = 0;

beforeAll(async () => {
  t = await startTestApp();
  p = await createStackProject(t);
  other = await createStackProject(t, 'Other project');
  db = t.app.get(DataSource);
});
afterAll(async () => {
  await t?.close();
});

const api = () => request(`${p.baseUrl}/api/v1`);
const email = (tag = 'user') => `${tag}.${++seq}@example.com`;

async function validServer(body: unknown): Promise<Json> {
  await usersCrudServerReadSchema.validate(body, { strict: true });
  expect(Object.keys(body as Json).sort()).toEqual(SERVER_KEYS);
  return body as Json;
}

async function validClient(body: unknown): Promise<Json> {
  await currentUserCrud.client.readSchema!.validate(body, { strict: true });
  expect(Object.keys(body as Json).sort()).toEqual(CLIENT_KEYS);
  return body as Json;
}

async function create(body: Json = {}, proj: StackTestProject = p): Promise<Json> {
  const res = await request(`${proj.baseUrl}/api/v1`).post('/users').set(serverHeaders(proj)).send(body);
  expect(res.status === 201 ? 201 : `${res.status} ${res.text}`).toBe(201);
  return validServer(res.body);
}

async function tokensFor(userId: string, proj: StackTestProject = p) {
  const user = await db.getRepository(StackUserEntity).findOneByOrFail({ id: userId, projectId: proj.projectId });
  return t.app.get(SessionsService).signIn(user);
}

function expectKnown(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code, text: res.text.slice(0, 300) }).toMatchObject({ status, code });
  expect(res.headers['x-stack-known-error']).toBe(code);
  expect(res.headers['x-hexclave-known-error']).toBe(code);
}

function expectSchemaError(res: request.Response, ...fragments: string[]): void {
  expectKnown(res, 400, 'SCHEMA_ERROR');
  expect(res.body.error).toMatch(/^Request validation failed on (GET|POST|PATCH|DELETE) \/stack-auth\/api\/v1\/users/);
  expect(res.body.details).toEqual({ message: res.body.error });
  for (const f of fragments) expect(res.body.error).toContain(f);
}

function expectText(res: request.Response, status: number, text: string): void {
  expect({ status: res.status, text: res.text }).toEqual({ status, text });
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  expect(res.headers['x-stack-known-error']).toBeUndefined();
}

const countUsers = (proj: StackTestProject = p) => db.getRepository(StackUserEntity).countBy({ projectId: proj.projectId });

describe('POST /users', () => {
  it('creates a user with every field and answers 201 with the complete server user', async () => {
    const body = {
      display_name: 'Bob',
      primary_email: 'Bob.Builder@Example.COM',
      primary_email_verified: true,
      primary_email_auth_enabled: true,
      password: 'correct horse battery',
      otp_auth_enabled: true,
      profile_image_url: 'https://example.com/bob.png',
      client_metadata: { a: [1, 2, { b: null }] },
      client_read_only_metadata: 'just a string',
      server_metadata: 42,
      country_code: ' us ',
      risk_scores: { sign_up: { bot: 100, free_trial_abuse: 0 } },
      totp_secret_base64: 'SGVsbG8gV29ybGQ=',
    };
    const user = await create(body);
    expect(user).toMatchObject({
      display_name: 'Bob',
      primary_email: 'bob.builder@example.com',
      primary_email_verified: true,
      primary_email_auth_enabled: true,
      has_password: true,
      otp_auth_enabled: true,
      auth_with_email: true,
      requires_totp_mfa: true,
      passkey_auth_enabled: false,
      profile_image_url: 'https://example.com/bob.png',
      client_metadata: { a: [1, 2, { b: null }] },
      client_read_only_metadata: 'just a string',
      server_metadata: 42,
      country_code: 'US',
      risk_scores: { sign_up: { bot: 100, free_trial_abuse: 0 } },
      is_anonymous: false,
      is_restricted: false,
      restricted_reason: null,
      selected_team: null,
      selected_team_id: null,
      oauth_providers: [],
    });
    expect(user.last_active_at_millis).toBe(user.signed_up_at_millis);
    expect(Math.abs((user.signed_up_at_millis as number) - Date.now())).toBeLessThan(60_000);
    const stored = await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id as string });
    expect(stored.passwordHash).toMatch(/^\$2[aby]\$10\$/);
    expect(stored.totpSecretEncrypted).not.toContain('SGVsbG8');
    expect(stored.version).toBe('1');
  });

  it('POST {} creates an empty user, as Stack Auth records it', async () => {
    const user = await create({});
    expect(user).toMatchObject({
      primary_email: null,
      primary_email_auth_enabled: false,
      auth_with_email: false,
      has_password: false,
      display_name: null,
      client_metadata: null,
      server_metadata: null,
      risk_scores: { sign_up: { bot: 0, free_trial_abuse: 0 } },
    });
  });

  it('accepts a bcrypt password_hash and treats display_name "" as null', async () => {
    const user = await create({ password_hash: '$2a$10$VIhIOofSMqGdGlL4wzE//e.77dAQGqNtF/1dT7bqCrVtQuInWy2qi', display_name: '' });
    expect(user).toMatchObject({ has_password: true, display_name: null });
  });

  it('a duplicate sign-in email is 409 USER_EMAIL_ALREADY_EXISTS; the same email without auth is allowed', async () => {
    const address = email('dup');
    await create({ primary_email: address, primary_email_auth_enabled: true });
    const before = await countUsers();
    const res = await api().post('/users').set(serverHeaders(p)).send({ primary_email: address.toUpperCase(), primary_email_auth_enabled: true });
    expectKnown(res, 409, 'USER_EMAIL_ALREADY_EXISTS');
    expect(JSON.parse(res.text)).toEqual({
      code: 'USER_EMAIL_ALREADY_EXISTS',
      details: { email: address, would_work_if_email_was_verified: false },
      error: `A user with email "${address}" already exists.`,
    });
    expect(await countUsers()).toBe(before);
    await create({ primary_email: address }); // not used for sign-in: fine
    // Another project is another namespace.
    await create({ primary_email: address, primary_email_auth_enabled: true }, other);
  });

  it('anonymous and admin-restricted users carry a consistent restricted_reason', async () => {
    expect(await create({ is_anonymous: true })).toMatchObject({ is_anonymous: true, is_restricted: true, restricted_reason: { type: 'anonymous' } });
    expect(await create({ restricted_by_admin: true, restricted_by_admin_reason: 'spam', restricted_by_admin_private_details: 'rule 7' })).toMatchObject({
      is_restricted: true,
      restricted_reason: { type: 'restricted_by_administrator' },
      restricted_by_admin: true,
      restricted_by_admin_reason: 'spam',
      restricted_by_admin_private_details: 'rule 7',
    });
  });

  it.each([
    ['password and password_hash', { password: 'a-password', password_hash: '$2a$10$VIhIOofSMqGdGlL4wzE//e.77dAQGqNtF/1dT7bqCrVtQuInWy2qi' }, 'Cannot set both password and password_hash at the same time.'],
    ['a non-MCF password_hash', { password_hash: 'plaintext' }, 'Invalid password hash. Make sure it\'s a supported algorithm in Modular Crypt Format.'],
    ['auth without an email', { primary_email_auth_enabled: true }, 'primary_email_auth_enabled cannot be true without primary_email'],
    ['verified without an email', { primary_email_verified: true }, 'primary_email_verified cannot be true without primary_email'],
    ['a restriction reason without a restriction', { restricted_by_admin_reason: 'why' }, 'restricted_by_admin_reason requires restricted_by_admin=true'],
    ['restriction details without a restriction', { restricted_by_admin: false, restricted_by_admin_private_details: 'x' }, 'restricted_by_admin_private_details requires restricted_by_admin=true'],
    ['an OAuth provider', { oauth_providers: [{ id: 'github', account_id: '1', email: null }] }, 'OAuth provider github not found'],
  ])('%s -> 400 with Stack Auth\'s text, nothing created', async (_name, body, text) => {
    const before = await countUsers();
    expectText(await api().post('/users').set(serverHeaders(p)).send(body), 400, text);
    expect(await countUsers()).toBe(before);
  });

  it.each([
    ['an unknown field', { display_name: 'x', favourite_colour: 'red' }, ['body contains unknown properties: favourite_colour']],
    ['two unknown fields', { foo: 1, bar: 2 }, ['body contains unknown properties: foo, bar']],
    ['selected_team_id (update only)', { selected_team_id: MISSING }, ['body contains unknown properties: selected_team_id']],
    ['an unknown nested field', { risk_scores: { sign_up: { bot: 1, free_trial_abuse: 2, extra: 3 } } }, ['body.risk_scores.sign_up contains unknown properties: extra']],
    ['display_name over 256 characters', { display_name: 'x'.repeat(257) }, ['body.display_name']],
    ['a password over 70 characters', { password: 'p'.repeat(71) }, ['body.password']],
    ['an email over 256 characters', { primary_email: `${'a'.repeat(250)}@example.com` }, ['body.primary_email']],
    ['a malformed email', { primary_email: 'not an email' }, ['body.primary_email must be a valid email']],
    ['an empty email', { primary_email: '' }, ['body.primary_email']],
    ['a display_name that is not a string', { display_name: 12 }, ['body.display_name must be a string']],
    ['a boolean as a string', { primary_email_verified: 'true' }, ['body.primary_email_verified must be a boolean value']],
    ['null for a non-nullable boolean', { otp_auth_enabled: null }, ['body.otp_auth_enabled']],
    ['a 3-letter country code', { country_code: 'USA' }, ['body.country_code must be a 2-letter country code']],
    ['a numeric country code', { country_code: '12' }, ['body.country_code must be a 2-letter country code']],
    ['a risk score over 100', { risk_scores: { sign_up: { bot: 101, free_trial_abuse: 0 } } }, ['body.risk_scores.sign_up.bot']],
    ['a fractional risk score', { risk_scores: { sign_up: { bot: 1.5, free_trial_abuse: 0 } } }, ['body.risk_scores.sign_up.bot']],
    ['a risk score as a string', { risk_scores: { sign_up: { bot: '5', free_trial_abuse: 0 } } }, ['body.risk_scores.sign_up.bot']],
    ['risk scores without sign_up', { risk_scores: {} }, ['body.risk_scores.sign_up']],
    ['risk scores that are not an object', { risk_scores: 7 }, ['body.risk_scores']],
    ['a profile image that is not a URL', { profile_image_url: 'not a url' }, ['body.profile_image_url is not a valid URL']],
    ['a profile image over 1e6 characters', { profile_image_url: `data:image/png;base64,${'A'.repeat(1_000_000)}` }, []],
    ['invalid base64 TOTP secret', { totp_secret_base64: 'not base64!' }, ['body.totp_secret_base64: Invalid base64 format']],
    ['a NUL character', { display_name: 'a\u0000b' }, ['NUL']],
    ['deeply nested metadata', { server_metadata: JSON.parse('['.repeat(150) + ']'.repeat(150)) }, ['nested too deeply']],
    ['an array body', [{ display_name: 'x' }], []],
  ])('%s -> 400 SCHEMA_ERROR, nothing created', async (_name, body, fragments) => {
    const before = await countUsers();
    const res = await api().post('/users').set(serverHeaders(p)).send(body as object);
    expectSchemaError(res, ...fragments);
    expect(await countUsers()).toBe(before);
  });

  it('malformed JSON is BODY_PARSING_ERROR; an oversize body is a 4xx; neither creates anything', async () => {
    const before = await countUsers();
    expectKnown(await api().post('/users').set(serverHeaders(p)).set('content-type', 'application/json').send('{"display_name": "x",'), 400, 'BODY_PARSING_ERROR');
    const huge = await api().post('/users').set(serverHeaders(p)).send({ server_metadata: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    expect(await countUsers()).toBe(before);
  });

  it.each([
    ['a metadata string', '{"server_metadata":"\\ud800"}', '[server_metadata] must be valid Unicode'],
    ['a metadata key', '{"client_metadata":{"a":{"\\udc00":1}}}', '[client_metadata.a] field names must be valid Unicode'],
    ['display_name', '{"display_name":"x\\ud83d"}', '[display_name] must be valid Unicode'],
  ])('an unpaired UTF-16 surrogate in %s -> SCHEMA_ERROR (Postgres cannot store it), nothing created', async (_name, raw, fragment) => {
    const before = await countUsers();
    expectSchemaError(await api().post('/users').set(serverHeaders(p)).set('content-type', 'application/json').send(raw), fragment);
    expect(await countUsers()).toBe(before);
  });

  it('well-formed non-ASCII text round-trips exactly', async () => {
    const user = await create({ display_name: 'Zoë 😀 山田', client_metadata: { '😀': ['ß', '\u2028'] } });
    const again = (await api().get(`/users/${user.id}`).set(serverHeaders(p)).expect(200)).body;
    expect(again).toMatchObject({ display_name: 'Zoë 😀 山田', client_metadata: { '😀': ['ß', '\u2028'] } });
  });

  it('long free-text fields without a Stack Auth limit are stored, never a 500', async () => {
    const user = await create({ restricted_by_admin: true, restricted_by_admin_reason: 'r'.repeat(100_000), restricted_by_admin_private_details: 'd'.repeat(100_000) });
    expect((user.restricted_by_admin_reason as string).length).toBe(100_000);
  });

  it('client access is INSUFFICIENT_ACCESS_TYPE (401) with Stack Auth\'s details', async () => {
    const res = await api().post('/users').set(clientHeaders(p)).send({});
    expectKnown(res, 401, 'INSUFFICIENT_ACCESS_TYPE');
    expect(res.body.details).toEqual({ actual_access_type: 'client', allowed_access_types: ['server', 'admin'] });
  });

  it('admin access (super secret admin key) may create users too', async () => {
    const res = await api()
      .post('/users')
      .set({ 'x-stack-access-type': 'admin', 'x-stack-project-id': p.projectId, 'x-stack-super-secret-admin-key': p.superSecretAdminKey })
      .send({ display_name: 'by admin' })
      .expect(201);
    await validServer(res.body);
  });
});

describe('keys', () => {
  it.each([
    ['no headers at all', () => ({}), 400, 'ACCESS_TYPE_REQUIRED'],
    ['no secret key', () => ({ 'x-stack-access-type': 'server', 'x-stack-project-id': p.projectId }), 401, 'SERVER_AUTHENTICATION_REQUIRED'],
    ['a wrong secret key', () => ({ ...serverHeaders(p), 'x-stack-secret-server-key': 'ssk_wrong' }), 401, 'INVALID_SECRET_SERVER_KEY'],
    ['another project\'s secret key', () => ({ ...serverHeaders(p), 'x-stack-secret-server-key': other.secretServerKey }), 401, 'INVALID_SECRET_SERVER_KEY'],
    ['a publishable key as the secret key', () => ({ ...serverHeaders(p), 'x-stack-secret-server-key': p.publishableClientKey }), 401, 'INVALID_SECRET_SERVER_KEY'],
    ['an unknown project', () => ({ ...serverHeaders(p), 'x-stack-project-id': MISSING }), 400, 'CURRENT_PROJECT_NOT_FOUND'],
    ['a key without access type', () => ({ 'x-stack-project-id': p.projectId, 'x-stack-secret-server-key': p.secretServerKey }), 400, 'PROJECT_KEY_WITHOUT_ACCESS_TYPE'],
  ])('%s -> the documented error on every users route, nothing changes', async (_name, headers, status, code) => {
    const victim = await create({ display_name: 'victim' });
    const before = await countUsers();
    const h = headers() as Record<string, string>;
    expectKnown(await api().post('/users').set(h).send({}), status, code);
    expectKnown(await api().get('/users').set(h), status, code);
    expectKnown(await api().get(`/users/${victim.id}`).set(h), status, code);
    expectKnown(await api().patch(`/users/${victim.id}`).set(h).send({ display_name: 'hacked' }), status, code);
    expectKnown(await api().delete(`/users/${victim.id}`).set(h).send({}), status, code);
    expect(await countUsers()).toBe(before);
    expect((await api().get(`/users/${victim.id}`).set(serverHeaders(p)).expect(200)).body.display_name).toBe('victim');
  });

  it('another project\'s valid keys see none of this project\'s users (404 USER_NOT_FOUND)', async () => {
    const victim = await create({ display_name: 'mine' });
    const o = request(`${other.baseUrl}/api/v1`);
    expectKnown(await o.get(`/users/${victim.id}`).set(serverHeaders(other)), 404, 'USER_NOT_FOUND');
    expectKnown(await o.patch(`/users/${victim.id}`).set(serverHeaders(other)).send({ display_name: 'x' }), 404, 'USER_NOT_FOUND');
    expectKnown(await o.delete(`/users/${victim.id}`).set(serverHeaders(other)).send({}), 404, 'USER_NOT_FOUND');
    const list = await o.get('/users').set(serverHeaders(other)).query({ limit: 1000 }).expect(200);
    expect(list.body.items.map((u: Json) => u.id)).not.toContain(victim.id);
    await api().get(`/users/${victim.id}`).set(serverHeaders(p)).expect(200);
  });

  it('the x-hexclave-* header family works the same, and override-error-status turns 4xx into 200', async () => {
    const user = await create({});
    await validServer((await api().get(`/users/${user.id}`).set(serverHeaders(p, 'hexclave')).expect(200)).body);
    const res = await api().get(`/users/${MISSING}`).set({ ...serverHeaders(p, 'hexclave'), 'x-hexclave-override-error-status': 'true' }).expect(200);
    expect(res.headers['x-stack-actual-status']).toBe('404');
    expect(res.headers['x-hexclave-actual-status']).toBe('404');
    expect(res.body).toEqual({ code: 'USER_NOT_FOUND', error: 'User not found.' });
  });
});

describe('GET/PATCH/DELETE /users/{user_id}: ids', () => {
  it.each(['not-a-uuid', '12345', `${MISSING}x`, 'null'])('a non-UUID id (%s) is SCHEMA_ERROR on every method', async (id) => {
    expectSchemaError(await api().get(`/users/${id}`).set(serverHeaders(p)), 'params.user_id must be a valid UUID');
    expectSchemaError(await api().patch(`/users/${id}`).set(serverHeaders(p)).send({}), 'params.user_id must be a valid UUID');
    expectSchemaError(await api().delete(`/users/${id}`).set(serverHeaders(p)).send({}), 'params.user_id must be a valid UUID');
  });

  it('an unknown UUID is 404 USER_NOT_FOUND on every method', async () => {
    for (const res of [
      await api().get(`/users/${MISSING}`).set(serverHeaders(p)),
      await api().patch(`/users/${MISSING}`).set(serverHeaders(p)).send({ display_name: 'x' }),
      await api().delete(`/users/${MISSING}`).set(serverHeaders(p)).send({}),
    ]) {
      expectKnown(res, 404, 'USER_NOT_FOUND');
      expect(JSON.parse(res.text)).toEqual({ code: 'USER_NOT_FOUND', error: 'User not found.' });
    }
  });

  it('upper-case UUIDs name the same user; unknown query keys are SCHEMA_ERROR', async () => {
    const user = await create({ display_name: 'upper' });
    expect((await api().get(`/users/${(user.id as string).toUpperCase()}`).set(serverHeaders(p)).expect(200)).body.id).toBe(user.id);
    expectSchemaError(await api().get(`/users/${user.id}`).set(serverHeaders(p)).query({ foo: 'bar' }), 'query contains unknown properties: foo');
  });

  it('client access to a user by id is INSUFFICIENT_ACCESS_TYPE', async () => {
    const user = await create({});
    expectKnown(await api().get(`/users/${user.id}`).set(clientHeaders(p)), 401, 'INSUFFICIENT_ACCESS_TYPE');
    expectKnown(await api().get('/users').set(clientHeaders(p)), 401, 'INSUFFICIENT_ACCESS_TYPE');
  });
});

describe('PATCH /users/{user_id}', () => {
  const patch = (id: unknown, body: unknown) => api().patch(`/users/${id}`).set(serverHeaders(p)).send(body as object);

  it('metadata is replaced, not merged; null stores null; display_name "" becomes null; version bumps', async () => {
    const user = await create({ display_name: 'Meta', client_metadata: { a: 1, b: 2 }, server_metadata: { keep: true }, client_read_only_metadata: { r: 1 } });
    const updated = await validServer((await patch(user.id, { client_metadata: { c: 3 }, server_metadata: null, display_name: '' }).expect(200)).body);
    expect(updated).toMatchObject({ client_metadata: { c: 3 }, server_metadata: null, client_read_only_metadata: { r: 1 }, display_name: null });
    const stored = await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id as string });
    expect(stored.version).toBe('2');
    expect((await api().get(`/users/${user.id}`).set(serverHeaders(p)).expect(200)).body).toEqual(updated);
    await patch(user.id, {}).expect(200);
    expect((await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id as string })).version).toBe('3');
  });

  it('changes every updatable field', async () => {
    const user = await create({ primary_email: email('before'), primary_email_verified: true, primary_email_auth_enabled: true });
    const next = email('after');
    const body = {
      display_name: 'Everything',
      profile_image_url: 'data:image/png;base64,iVBORw0KGgo=',
      primary_email: next,
      otp_auth_enabled: true,
      passkey_auth_enabled: false,
      password: 'a-new-password',
      totp_secret_base64: 'SGVsbG8gV29ybGQ=',
      selected_team_id: null,
      restricted_by_admin: true,
      restricted_by_admin_reason: 'abuse',
      restricted_by_admin_private_details: 'ticket 12',
      country_code: 'fr',
      risk_scores: { sign_up: { bot: 3, free_trial_abuse: 4 } },
      client_read_only_metadata: ['x'],
    };
    const updated = await validServer((await patch(user.id, body).expect(200)).body);
    expect(updated).toMatchObject({
      display_name: 'Everything',
      profile_image_url: 'data:image/png;base64,iVBORw0KGgo=',
      primary_email: next,
      // A new address is unverified unless primary_email_verified says otherwise; it keeps the auth flag.
      primary_email_verified: false,
      primary_email_auth_enabled: true,
      otp_auth_enabled: true,
      has_password: true,
      requires_totp_mfa: true,
      is_restricted: true,
      restricted_reason: { type: 'restricted_by_administrator' },
      restricted_by_admin_reason: 'abuse',
      restricted_by_admin_private_details: 'ticket 12',
      country_code: 'FR',
      risk_scores: { sign_up: { bot: 3, free_trial_abuse: 4 } },
      client_read_only_metadata: ['x'],
    });
    // Lifting the restriction clears its texts; removing the TOTP secret and the email turn those off.
    const lifted = await validServer((await patch(user.id, { restricted_by_admin: false, totp_secret_base64: null, primary_email: null }).expect(200)).body);
    expect(lifted).toMatchObject({
      restricted_by_admin: false,
      restricted_by_admin_reason: null,
      restricted_by_admin_private_details: null,
      is_restricted: false,
      requires_totp_mfa: false,
      primary_email: null,
      primary_email_verified: false,
      primary_email_auth_enabled: false,
    });
  });

  it('password: null removes the password; every password change revokes all the user\'s sessions', async () => {
    const user = await create({ primary_email: email('pw'), primary_email_auth_enabled: true, password: 'first-password' });
    const bystander = await create({ primary_email: email('bystander'), password: 'their-password' });
    await tokensFor(user.id as string);
    await tokensFor(user.id as string);
    await tokensFor(bystander.id as string);
    const sessions = db.getRepository(StackSessionEntity);
    const live = async (id: unknown) => (await sessions.findBy({ userId: id as string })).filter((s) => s.revokedAt === null).length;
    expect(await live(user.id)).toBe(2);
    await patch(user.id, { display_name: 'no password change' }).expect(200);
    expect(await live(user.id)).toBe(2);
    await patch(user.id, { password: 'second-password' }).expect(200);
    expect(await live(user.id)).toBe(0);
    expect(await live(bystander.id)).toBe(1);
    await tokensFor(user.id as string);
    const removed = await validServer((await patch(user.id, { password: null }).expect(200)).body);
    expect(removed).toMatchObject({ has_password: false, auth_with_email: false });
    expect(await live(user.id)).toBe(0);
  });

  it('a duplicate sign-in email on update is 409 with details, and changes nothing', async () => {
    const taken = email('taken');
    await create({ primary_email: taken, primary_email_auth_enabled: true });
    const user = await create({ primary_email: email('mover'), primary_email_auth_enabled: true, display_name: 'mover' });
    for (const body of [{ primary_email: taken.toUpperCase(), display_name: 'moved' }]) {
      const res = await patch(user.id, body);
      expectKnown(res, 409, 'USER_EMAIL_ALREADY_EXISTS');
      expect(res.body.details).toEqual({ email: taken, would_work_if_email_was_verified: false });
    }
    // Same address without auth, then turning auth on: the conflict is caught there too.
    const quiet = await create({ primary_email: taken });
    expectKnown(await patch(quiet.id, { primary_email_auth_enabled: true }), 409, 'USER_EMAIL_ALREADY_EXISTS');
    const after = (await api().get(`/users/${user.id}`).set(serverHeaders(p)).expect(200)).body;
    expect(after).toMatchObject({ display_name: 'mover', primary_email: user.primary_email });
    expect((await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id as string })).version).toBe('1');
  });

  it('is_anonymous may only become false, which makes an anonymous user a regular one', async () => {
    const anon = await create({ is_anonymous: true });
    expectSchemaError(await patch(anon.id, { is_anonymous: true }), 'body.is_anonymous must be one of the following values: false');
    const upgraded = await validServer((await patch(anon.id, { is_anonymous: false }).expect(200)).body);
    expect(upgraded).toMatchObject({ is_anonymous: false, is_restricted: false, restricted_reason: null });
    expect(upgraded.signed_up_at_millis as number).toBeGreaterThanOrEqual(anon.signed_up_at_millis as number);
  });

  it.each([
    ['a restriction reason on an unrestricted user', { restricted_by_admin_reason: 'x' }, 'restricted_by_admin_reason requires restricted_by_admin=true'],
    ['private details on an unrestricted user', { restricted_by_admin_private_details: 'x' }, 'restricted_by_admin_private_details requires restricted_by_admin=true'],
    ['auth on without an email', { primary_email_auth_enabled: true }, 'primary_email_auth_enabled cannot be true without primary_email'],
    ['verified without an email', { primary_email_verified: true }, 'primary_email_verified cannot be true without primary_email'],
    ['enabling a passkey by hand', { passkey_auth_enabled: true }, 'Cannot manually enable passkey auth, it is enabled iff there is a passkey auth method'],
    ['password and password_hash', { password: 'x', password_hash: 'y' }, 'Cannot set both password and password_hash at the same time.'],
  ])('%s -> 400 text, nothing changes', async (_name, body, text) => {
    const user = await create({ display_name: 'stable' });
    expectText(await patch(user.id, body), 400, text);
    expect((await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id as string })).version).toBe('1');
  });

  it('a selected team the user is not a member of is TEAM_MEMBERSHIP_NOT_FOUND', async () => {
    const user = await create({});
    const res = await patch(user.id, { selected_team_id: MISSING });
    expectKnown(res, 404, 'TEAM_MEMBERSHIP_NOT_FOUND');
    expect(res.body.details).toEqual({ team_id: MISSING, user_id: user.id });
  });

  it.each([
    ['an unknown field', { nickname: 'x' }, 'body contains unknown properties: nickname'],
    ['oauth_providers (create only)', { oauth_providers: [] }, 'body contains unknown properties: oauth_providers'],
    ['display_name over 256', { display_name: 'n'.repeat(300) }, 'body.display_name'],
    ['a password over 70', { password: 'p'.repeat(100) }, 'body.password'],
    ['a bad country code', { country_code: 'X1' }, 'body.country_code'],
    ['a bad risk score', { risk_scores: { sign_up: { bot: -1, free_trial_abuse: 0 } } }, 'body.risk_scores.sign_up.bot'],
    ['a non-UUID selected team', { selected_team_id: 'team' }, 'body.selected_team_id must be a valid UUID'],
  ])('%s -> SCHEMA_ERROR, nothing changes', async (_name, body, fragment) => {
    const user = await create({ display_name: 'stable' });
    expectSchemaError(await patch(user.id, body), fragment);
    expect((await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id as string })).version).toBe('1');
  });
});

describe('DELETE /users/{user_id}', () => {
  it('answers 200 {"success":true}, removes the user and its sessions; a second delete is 404', async () => {
    const user = await create({ primary_email: email('gone'), primary_email_auth_enabled: true, password: 'goodbye-password' });
    await tokensFor(user.id as string);
    const res = await api().delete(`/users/${user.id}`).set(serverHeaders(p)).set('content-type', 'application/json').send('{}').expect(200);
    expect(res.body).toEqual({ success: true });
    expectKnown(await api().get(`/users/${user.id}`).set(serverHeaders(p)), 404, 'USER_NOT_FOUND');
    expect(await db.getRepository(StackSessionEntity).countBy({ userId: user.id as string })).toBe(0);
    expectKnown(await api().delete(`/users/${user.id}`).set(serverHeaders(p)).send({}), 404, 'USER_NOT_FOUND');
    // Its sign-in email is free again.
    await create({ primary_email: user.primary_email, primary_email_auth_enabled: true });
  });
});

describe('GET /users: a cursor survives the deletion of the user it names', () => {
  it.each([['signed_up_at'], ['last_active_at']])('order_by=%s: the next page starts right after the deleted user, in both directions', async (orderBy) => {
    const dp = await createStackProject(t, `Cursor deletion ${orderBy}`);
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push((await create({ display_name: `cursor ${i}` }, dp)).id as string);
    for (let i = 0; i < made.length; i++) {
      await db.getRepository(StackUserEntity).update(made[i], { signedUpAt: new Date(Date.UTC(2026, 1, 1, 0, 0, i)), lastActiveAt: new Date(Date.UTC(2026, 1, 2, 0, 0, i)) });
    }
    const list = (query: Json) => request(`${dp.baseUrl}/api/v1`).get('/users').set(serverHeaders(dp)).query({ order_by: orderBy, ...query });
    const idsOf = (res: request.Response) => res.body.items.map((u: Json) => u.id as string);

    const first = await list({ limit: 2 }).expect(200);
    expect(idsOf(first)).toEqual(made.slice(0, 2));
    const back = await list({ limit: 2, desc: 'true' }).expect(200);
    expect(idsOf(back)).toEqual([made[5], made[4]]);
    // The users the cursors name are deleted between the pages.
    for (const id of [made[1], made[4]]) await request(`${dp.baseUrl}/api/v1`).delete(`/users/${id}`).set(serverHeaders(dp)).send({}).expect(200);

    const second = await list({ limit: 2, cursor: first.body.pagination.next_cursor }).expect(200);
    expect(idsOf(second)).toEqual([made[2], made[3]]);
    const rest = await list({ limit: 2, cursor: second.body.pagination.next_cursor }).expect(200);
    expect(idsOf(rest)).toEqual([made[5]]);
    expect(rest.body.pagination.next_cursor).toBeNull();
    expect(idsOf(await list({ limit: 10, desc: 'true', cursor: back.body.pagination.next_cursor }).expect(200))).toEqual([made[3], made[2], made[0]]);
  });
});

describe('GET /users', () => {
  let lp: StackTestProject;
  const list = (query: Json = {}, proj?: StackTestProject) =>
    request(`${(proj ?? lp).baseUrl}/api/v1`).get('/users').set(serverHeaders(proj ?? lp)).query(query);
  const ids = (res: request.Response) => res.body.items.map((u: Json) => u.id as string);
  let users: Json[];

  beforeAll(async () => {
    lp = await createStackProject(t, 'List project');
    users = [];
    const names = ['Alice Smith', 'bob jones', '100%_done', '100xydone', 'back\\slash', 'Zed'];
    for (const name of names) users.push(await create({ display_name: name, primary_email: `${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}@list.example` }, lp));
    // Signed up at distinct, known times (so the order is fixed), and active in the reverse order.
    for (let i = 0; i < users.length; i++) {
      await db.getRepository(StackUserEntity).update(users[i].id as string, {
        signedUpAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
        lastActiveAt: new Date(Date.UTC(2026, 0, 2, 0, 0, users.length - i)),
      });
    }
    users.push(await create({ display_name: 'Anon', is_anonymous: true }, lp));
    users.push(await create({ display_name: 'Restricted', restricted_by_admin: true }, lp));
    await db.getRepository(StackUserEntity).update(users[6].id as string, { signedUpAt: new Date(Date.UTC(2026, 0, 1, 0, 1)) });
    await db.getRepository(StackUserEntity).update(users[7].id as string, { signedUpAt: new Date(Date.UTC(2026, 0, 1, 0, 2)) });
  });

  const regular = () => users.slice(0, 6).map((u) => u.id as string);

  it('lists regular users by signed_up_at ascending, in the documented envelope', async () => {
    const res = await list().expect(200);
    expect(Object.keys(res.body).sort()).toEqual(['is_paginated', 'items', 'pagination']);
    expect(res.body.is_paginated).toBe(true);
    expect(res.body.pagination).toEqual({ next_cursor: null });
    expect(ids(res)).toEqual(regular());
    for (const item of res.body.items) await validServer(item);
  });

  it('pages with an exclusive keyset cursor: next_cursor names the last user of the page, null on the last page', async () => {
    const seenIds: string[] = [];
    let cursor: string | undefined;
    const pages: string[][] = [];
    do {
      const res = await list({ limit: 4, ...(cursor ? { cursor } : {}) }).expect(200);
      const page = ids(res);
      pages.push(page);
      seenIds.push(...page);
      cursor = res.body.pagination.next_cursor ?? undefined;
      if (cursor) expect(cursor).toMatch(new RegExp(`^c1\\.s\\d+\\.${page[page.length - 1]}$`));
    } while (cursor);
    expect(pages.map((x) => x.length)).toEqual([4, 2]);
    expect(seenIds).toEqual(regular());
    // Exactly a full last page: no further cursor.
    const exact = await list({ limit: 6 }).expect(200);
    expect(exact.body.pagination.next_cursor).toBeNull();
    const three = await list({ limit: 3 }).expect(200);
    const rest = await list({ limit: 3, cursor: three.body.pagination.next_cursor }).expect(200);
    expect(ids(rest)).toEqual(regular().slice(3));
    expect(rest.body.pagination.next_cursor).toBeNull();
  });

  it('desc=true and order_by=last_active_at reverse and reorder, cursors included', async () => {
    expect(ids(await list({ desc: 'true' }).expect(200))).toEqual([...regular()].reverse());
    expect(ids(await list({ desc: 'false' }).expect(200))).toEqual(regular());
    expect(ids(await list({ order_by: 'last_active_at' }).expect(200))).toEqual([...regular()].reverse());
    const first = await list({ order_by: 'last_active_at', desc: 'true', limit: 2 }).expect(200);
    expect(ids(first)).toEqual(regular().slice(0, 2));
    const second = await list({ order_by: 'last_active_at', desc: 'true', limit: 2, cursor: first.body.pagination.next_cursor }).expect(200);
    expect(ids(second)).toEqual(regular().slice(2, 4));
    const third = await list({ desc: 'true', limit: 5 }).expect(200);
    const fourth = await list({ desc: 'true', limit: 5, cursor: third.body.pagination.next_cursor }).expect(200);
    expect(ids(fourth)).toEqual([regular()[0]]);
  });

  it('an unknown cursor gives an empty page', async () => {
    const res = await list({ cursor: MISSING, limit: 10 }).expect(200);
    expect(res.body).toEqual({ items: [], is_paginated: true, pagination: { next_cursor: null } });
  });

  it('a user id is still taken as the cursor (Stack Auth\'s form): the page starts after that user', async () => {
    expect(ids(await list({ cursor: regular()[1], limit: 2 }).expect(200))).toEqual(regular().slice(2, 4));
    expect(ids(await list({ cursor: regular()[4].toUpperCase(), limit: 2, desc: 'true' }).expect(200))).toEqual([regular()[3], regular()[2]]);
  });

  it('a cursor of a listing in another order is a 400; a tampered one a SCHEMA_ERROR', async () => {
    const cursor = (await list({ limit: 2 }).expect(200)).body.pagination.next_cursor as string;
    expectText(await list({ limit: 2, order_by: 'last_active_at', cursor }), 400, 'The cursor belongs to a listing ordered by signed_up_at, not last_active_at.');
    expectSchemaError(await list({ limit: 2, cursor: cursor.replace('c1.s', 'c1.x') }), 'query.cursor must be a valid UUID');
  });

  it('query: case-insensitive substring of display name and email, exact id, with % _ \\ taken literally', async () => {
    expect(ids(await list({ query: 'SMITH' }).expect(200))).toEqual([users[0].id]);
    expect(ids(await list({ query: 'bobjones@list' }).expect(200))).toEqual([users[1].id]);
    expect(ids(await list({ query: '100%_' }).expect(200))).toEqual([users[2].id]);
    expect(ids(await list({ query: '%' }).expect(200))).toEqual([users[2].id]);
    expect(ids(await list({ query: '_' }).expect(200))).toEqual([users[2].id]);
    expect(ids(await list({ query: 'k\\s' }).expect(200))).toEqual([users[4].id]);
    expect(ids(await list({ query: users[5].id as string }).expect(200))).toEqual([users[5].id]);
    expect(ids(await list({ query: (users[5].id as string).toUpperCase() }).expect(200))).toEqual([users[5].id]);
    expect(ids(await list({ query: 'nobody-matches-this' }).expect(200))).toEqual([]);
    expect(ids(await list({ query: '' }).expect(200))).toEqual(regular());
  });

  it('include_restricted, include_anonymous and only_anonymous select as Stack Auth does', async () => {
    const [anon, restricted] = [users[6].id, users[7].id];
    expect(ids(await list({ include_restricted: 'true' }).expect(200))).toEqual([...regular(), restricted]);
    expect(ids(await list({ include_anonymous: 'true' }).expect(200))).toEqual([...regular(), anon, restricted]);
    expect(ids(await list({ include_anonymous: 'true', only_anonymous: 'true' }).expect(200))).toEqual([anon]);
    expect(ids(await list({ include_restricted: 'false', include_anonymous: 'false' }).expect(200))).toEqual(regular());
    expectText(await list({ only_anonymous: 'true' }), 400, 'only_anonymous=true requires include_anonymous=true');
  });

  it('excluded_email_domains and team_id', async () => {
    expect(ids(await list({ excluded_email_domains: '@LIST.example, other.com' }).expect(200))).toEqual([]);
    expect(ids(await list({ excluded_email_domains: 'example.com' }).expect(200))).toEqual(regular());
    expectText(await list({ excluded_email_domains: 'not a domain' }), 400, 'excluded_email_domains must be a comma-separated list of valid domains');
    expect(ids(await list({ team_id: MISSING }).expect(200))).toEqual([]);
  });

  it.each([
    [{ limit: '0' }, 'query.limit must be greater than or equal to 1'],
    [{ limit: '1001' }, 'query.limit must be less than or equal to 1000'],
    [{ limit: 'ten' }, 'query.limit must be an integer'],
    [{ limit: '2.5' }, 'query.limit must be an integer'],
    [{ cursor: 'abc' }, 'query.cursor must be a valid UUID'],
    [{ order_by: 'display_name' }, 'query.order_by must be one of the following values: signed_up_at, last_active_at'],
    [{ desc: 'yes' }, 'query.desc must be one of the following values: true, false'],
    [{ include_anonymous: '1' }, 'query.include_anonymous'],
    [{ team_id: 'team' }, 'query.team_id must be a valid UUID'],
    [{ sort: 'asc' }, 'query contains unknown properties: sort'],
  ])('%j -> SCHEMA_ERROR', async (query, fragment) => {
    expectSchemaError(await list(query), fragment);
  });

  it('repeated query keys are a SCHEMA_ERROR, not a 500', async () => {
    const res = await request(`${lp.baseUrl}/api/v1`).get('/users?limit=1&limit=2&query=a&query=b').set(serverHeaders(lp));
    expectSchemaError(res);
  });

  it('more than 1000 users need a limit (newest Stack Auth): 400 text; exactly 1000 are listed whole', async () => {
    const big = await createStackProject(t, 'Big project');
    await adminQuery(
      `INSERT INTO stack_auth.users (project_id, display_name, risk_scores, signed_up_at, last_active_at)
       SELECT $1, 'bulk ' || g, '{"sign_up":{"bot":0,"free_trial_abuse":0}}', now() + g * interval '1 ms', now() FROM generate_series(1, 1001) g`,
      [big.projectId],
      t.database,
    );
    expectText(await list({}, big), 400, 'Listing more than 1000 users requires a limit. Pass limit and paginate using cursor.');
    const first = await list({ limit: 1000 }, big).expect(200);
    expect(first.body.items).toHaveLength(1000);
    expect(first.body.pagination.next_cursor).toMatch(new RegExp(`\\.${first.body.items[999].id}$`));
    const second = await list({ limit: 1000, cursor: first.body.pagination.next_cursor }, big).expect(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].display_name).toBe('bulk 1001');
    expect(second.body.pagination.next_cursor).toBeNull();
    await request(`${big.baseUrl}/api/v1`).delete(`/users/${second.body.items[0].id}`).set(serverHeaders(big)).send({}).expect(200);
    const whole = await list({}, big).expect(200);
    expect(whole.body.items).toHaveLength(1000);
    expect(whole.body.pagination.next_cursor).toBeNull();
  });
});

describe('/users/me', () => {
  const me = () => request(`${p.baseUrl}/api/v1`);

  it('without a user token: 400 CANNOT_GET_OWN_USER_WITHOUT_USER for client and server access, on every method', async () => {
    for (const h of [clientHeaders(p), serverHeaders(p)]) {
      expectKnown(await me().get('/users/me').set(h), 400, 'CANNOT_GET_OWN_USER_WITHOUT_USER');
      expectKnown(await me().patch('/users/me').set(h).send({ display_name: 'x' }), 400, 'CANNOT_GET_OWN_USER_WITHOUT_USER');
    }
    expectKnown(await me().delete('/users/me').set(serverHeaders(p)).send({}), 400, 'CANNOT_GET_OWN_USER_WITHOUT_USER');
  });

  it('a garbage token is UNPARSABLE_ACCESS_TOKEN; a token of a deleted user names nobody', async () => {
    expectKnown(await me().get('/users/me').set({ ...clientHeaders(p), 'x-stack-access-token': 'garbage' }), 401, 'UNPARSABLE_ACCESS_TOKEN');
    const user = await create({});
    const tokens = await tokensFor(user.id as string);
    await api().delete(`/users/${user.id}`).set(serverHeaders(p)).send({}).expect(200);
    expectKnown(await me().get('/users/me').set({ ...clientHeaders(p), 'x-stack-access-token': tokens.access_token }), 400, 'CANNOT_GET_OWN_USER_WITHOUT_USER');
  });

  it('client access gets the client shape (no server-only fields); server access the server shape', async () => {
    const user = await create({ primary_email: email('me'), primary_email_auth_enabled: true, password: 'me-password', server_metadata: { secret: 1 }, country_code: 'NL' });
    const { access_token } = await tokensFor(user.id as string);
    for (const prefix of ['stack', 'hexclave'] as const) {
      const client = await me().get('/users/me').set({ ...clientHeaders(p, prefix), [`x-${prefix}-access-token`]: access_token }).expect(200);
      await validClient(client.body);
      expect(client.body).toMatchObject({ id: user.id, primary_email: user.primary_email, has_password: true, auth_with_email: true });
      expect(client.text).not.toContain('secret');
    }
    const server = await me().get('/users/me').set({ ...serverHeaders(p), 'x-stack-access-token': access_token }).expect(200);
    expect(await validServer(server.body)).toMatchObject({ id: user.id, server_metadata: { secret: 1 }, country_code: 'NL' });
  });

  it('client PATCH /users/me takes only the client fields and answers with the client user', async () => {
    const user = await create({ display_name: 'Me', server_metadata: { s: 1 } });
    const { access_token } = await tokensFor(user.id as string);
    const h = { ...clientHeaders(p), 'x-stack-access-token': access_token };
    const res = await me().patch('/users/me').set(h).send({ display_name: 'Me 2', client_metadata: { theme: 'dark' }, otp_auth_enabled: true, profile_image_url: 'data:image/png;base64,iVBORw0KGgo=' }).expect(200);
    expect(await validClient(res.body)).toMatchObject({ display_name: 'Me 2', client_metadata: { theme: 'dark' }, otp_auth_enabled: true });
    expect((await me().patch('/users/me').set(h).send({ display_name: '' }).expect(200)).body.display_name).toBeNull();
    for (const field of ['server_metadata', 'client_read_only_metadata', 'restricted_by_admin', 'primary_email_verified', 'password', 'risk_scores']) {
      expectSchemaError(await me().patch('/users/me').set(h).send({ [field]: null }), `body contains unknown properties: ${field}`);
    }
    expectSchemaError(await me().patch('/users/me').set(h).send({ totp_secret_base64: '***' }), 'Invalid base64 format');
    expectText(await me().patch('/users/me').set(h).send({ profile_image_url: 'https://example.com/me.png' }), 400, 'Invalid profile image URL');
    const stored = (await api().get(`/users/${user.id}`).set(serverHeaders(p)).expect(200)).body;
    expect(stored).toMatchObject({ display_name: null, server_metadata: { s: 1 }, client_metadata: { theme: 'dark' } });
  });

  it('client PATCH /users/me with a taken sign-in email is 409', async () => {
    const taken = email('me-taken');
    await create({ primary_email: taken, primary_email_auth_enabled: true });
    const user = await create({ primary_email: email('me-own'), primary_email_auth_enabled: true });
    const { access_token } = await tokensFor(user.id as string);
    expectKnown(await me().patch('/users/me').set({ ...clientHeaders(p), 'x-stack-access-token': access_token }).send({ primary_email: taken }), 409, 'USER_EMAIL_ALREADY_EXISTS');
  });

  it('server PATCH /users/me accepts the server fields', async () => {
    const user = await create({});
    const { access_token } = await tokensFor(user.id as string);
    const res = await me().patch('/users/me').set({ ...serverHeaders(p), 'x-stack-access-token': access_token }).send({ server_metadata: { plan: 'team' } }).expect(200);
    expect(await validServer(res.body)).toMatchObject({ server_metadata: { plan: 'team' } });
  });

  it('client DELETE /users/me needs client_user_deletion_enabled; server access may always delete', async () => {
    const user = await create({});
    const { access_token } = await tokensFor(user.id as string);
    const h = { ...clientHeaders(p), 'x-stack-access-token': access_token };
    expectText(await me().delete('/users/me').set(h).send({}), 400, 'Client user deletion is not enabled for this project');
    await api().get(`/users/${user.id}`).set(serverHeaders(p)).expect(200);

    const repo = db.getRepository(StackProjectEntity);
    const project = await repo.findOneByOrFail({ id: p.projectId });
    await repo.update(p.projectId, { config: { ...project.config, client_user_deletion_enabled: true } });
    // Written in SQL, past the provider's API: wait until the cached key checks (and their projects) are dropped.
    await t.app.get(StackProjectsService).settleChanges();
    try {
      expect((await me().delete('/users/me').set(h).send({}).expect(200)).body).toEqual({ success: true });
      expectKnown(await api().get(`/users/${user.id}`).set(serverHeaders(p)), 404, 'USER_NOT_FOUND');
    } finally {
      await repo.update(p.projectId, { config: project.config });
      await t.app.get(StackProjectsService).settleChanges();
    }

    const second = await create({});
    const tokens = await tokensFor(second.id as string);
    expect((await me().delete('/users/me').set({ ...serverHeaders(p), 'x-stack-access-token': tokens.access_token }).send({}).expect(200)).body).toEqual({ success: true });
    expectKnown(await api().get(`/users/${second.id}`).set(serverHeaders(p)), 404, 'USER_NOT_FOUND');
  });

  it('another project\'s token is refused', async () => {
    const foreign = await create({}, other);
    const { access_token } = await tokensFor(foreign.id as string, other);
    expectKnown(await me().get('/users/me').set({ ...clientHeaders(p), 'x-stack-access-token': access_token }), 401, 'INVALID_PROJECT_FOR_ACCESS_TOKEN');
  });
});
