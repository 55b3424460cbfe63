import bcrypt from 'bcryptjs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { StackUserEntity } from '../../src/stack-auth/entities/stack-user.entity.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * bcrypt doubles its work with each cost step, so a hash with a high cost is a lever on the whole server (it
 * runs natively on libuv's small thread pool): imported hashes above cost 12 are refused, and a stored one is never computed
 * at sign-in (the sign-in fails as a wrong password does, in about the same time).
 */

let t: TestApp;
let p: StackTestProject;
let db: DataSource;
let seq = 0;

beforeAll(async () => {
  t = await startTestApp();
  p = await createStackProject(t);
  db = t.app.get(DataSource);
});
afterAll(async () => {
  await t?.close();
});

const PASSWORD = 'correct horse battery';
const api = () => request(`${p.baseUrl}/api/v1`);
const email = (tag: string) => `${tag}.${++seq}@example.com`;
const signIn = (body: Record<string, unknown>) => api().post('/auth/password/sign-in').set(clientHeaders(p)).send(body);

/** A well-formed bcrypt hash of the given cost (a fixed salt and digest; it matches no password). */
const fakeHash = (cost: number) => `$2b$${String(cost).padStart(2, '0')}$${'N9qo8uLOickgx2ZMRZoMye'}${'IjZAgcfl7p92ldGxad68LJZdL17lhWy'}`;

const COST_MESSAGE = 'Invalid password hash. The bcrypt cost must be at most 12.';

function expectText(res: request.Response, status: number, text: string): void {
  expect({ status: res.status, text: res.text }).toEqual({ status, text });
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

describe('hashes Stack Auth wrote', () => {
  it.each(['$2a$', '$2b$'])('a cost-10 %s hash made by bcryptjs (as Stack Auth does) verifies; a wrong password does not', async (prefix) => {
    const hash = bcrypt.hashSync(PASSWORD, 10).replace(/^\$2[ab]\$/, prefix);
    const address = email('stack-written');
    await api().post('/users').set(serverHeaders(p)).send({ primary_email: address, primary_email_auth_enabled: true, password_hash: hash }).expect(201);
    await signIn({ email: address, password: PASSWORD }).expect(200);
    expect((await signIn({ email: address, password: 'wrong horse battery' })).status).toBe(400);
  });

  it('new hashes are bcrypt cost 10, verifiable by bcryptjs', async () => {
    const address = email('new-hash');
    const created = await api().post('/users').set(serverHeaders(p)).send({ primary_email: address, password: PASSWORD }).expect(201);
    const stored = (await db.getRepository(StackUserEntity).findOneByOrFail({ id: created.body.id })).passwordHash!;
    expect(stored).toMatch(/^\$2[ab]\$10\$/);
    expect(bcrypt.compareSync(PASSWORD, stored)).toBe(true);
  });
});

describe('imported password hashes', () => {
  it.each([13, 17, 31])('POST /users with a cost-%i hash -> 400, nothing created', async (cost) => {
    const before = await db.getRepository(StackUserEntity).countBy({ projectId: p.projectId });
    const res = await api().post('/users').set(serverHeaders(p)).send({ primary_email: email('import'), password_hash: fakeHash(cost) });
    expectText(res, 400, COST_MESSAGE);
    expect(await db.getRepository(StackUserEntity).countBy({ projectId: p.projectId })).toBe(before);
  });

  it('PATCH /users/{id} with a cost-13 hash -> 400, the user keeps its password', async () => {
    const created = await api().post('/users').set(serverHeaders(p)).send({ password: PASSWORD }).expect(201);
    const res = await api().patch(`/users/${created.body.id}`).set(serverHeaders(p)).send({ password_hash: fakeHash(13) });
    expectText(res, 400, COST_MESSAGE);
    const user = await db.getRepository(StackUserEntity).findOneByOrFail({ id: created.body.id });
    expect(user.version).toBe('1');
    expect(user.passwordHash).toMatch(/^\$2b\$10\$/);
  });

  it('a cost-12 hash is accepted, and its password signs in', async () => {
    const address = email('cost12');
    const hash = await bcrypt.hash(PASSWORD, 12);
    const res = await api().post('/users').set(serverHeaders(p)).send({ primary_email: address, primary_email_auth_enabled: true, password_hash: hash });
    expect(res.status).toBe(201);
    expect(res.body.has_password).toBe(true);
    expect((await signIn({ email: address, password: PASSWORD })).status).toBe(200);
    // And through PATCH as well.
    const patched = await api().patch(`/users/${res.body.id}`).set(serverHeaders(p)).send({ password_hash: fakeHash(12) });
    expect(patched.status).toBe(200);
  });
});

describe('a high-cost hash already stored', () => {
  async function userWithStoredHash(hash: string): Promise<string> {
    const address = email('stored');
    const res = await api().post('/users').set(serverHeaders(p)).send({ primary_email: address, primary_email_auth_enabled: true, password: PASSWORD });
    expect(res.status).toBe(201);
    await db.query('UPDATE stack_auth.users SET password_hash = $1 WHERE id = $2', [hash, res.body.id]);
    return address;
  }

  it('sign-in answers promptly with EMAIL_PASSWORD_MISMATCH, as a wrong password does', async () => {
    const address = await userWithStoredHash(fakeHash(17));
    const { value: res, ms } = await timed(() => signIn({ email: address, password: PASSWORD }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'EMAIL_PASSWORD_MISMATCH', error: 'Wrong e-mail or password.' });
    expect(res.headers['x-stack-known-error']).toBe('EMAIL_PASSWORD_MISMATCH');
    // Computing cost 17 takes seconds of CPU; refusing costs one ordinary (cost 10) comparison.
    expect(ms).toBeLessThan(1000);
  });

  it('even the right password does not sign in through a stored cost-13 hash', async () => {
    const address = await userWithStoredHash(await bcrypt.hash(PASSWORD, 13));
    const res = await signIn({ email: address, password: PASSWORD });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('EMAIL_PASSWORD_MISMATCH');
  });
});
