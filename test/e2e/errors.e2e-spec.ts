import request from 'supertest';
import { DataSource } from 'typeorm';
import { serializeError, type SerializedError } from '../../src/common/logger.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The error pipeline: every non-2xx body is exactly Neon's GeneralError {request_id, code, message},
 * X-Request-ID is honoured and echoed, bad input of every kind is a 400 naming the problem (never a
 * 500), and an unexpected failure is a 500 that reveals nothing of the internals.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Asserts Neon's error shape, with no other keys, and returns the body. */
function expectGeneralError(res: request.Response, status: number, code: string): { request_id: string; code: string; message: string } {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { request_id: expect.any(String), code, message: expect.any(String) },
  });
  expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'request_id']);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.message.length).toBeGreaterThan(0);
  expect(res.body.request_id).toBe(res.headers['x-request-id']);
  return res.body;
}

describe('error pipeline', () => {
  let t: TestApp;
  let orgId: string;
  const auth = (): [string, string] => ['Authorization', `Bearer ${t.adminKey}`];

  beforeAll(async () => {
    t = await startTestApp();
    const orgs = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...auth()).expect(200);
    orgId = orgs.body.organizations[0].id;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('request ids', () => {
    it('honours a well-formed X-Request-ID and echoes it in both headers and in the error body', async () => {
      const res = await request(t.baseUrl).get('/api/v2/users/me').set('X-Request-ID', 'req-Abc.123:x_y');
      expectGeneralError(res, 401, 'UNAUTHORIZED');
      expect(res.body.request_id).toBe('req-Abc.123:x_y');
      expect(res.headers['x-request-id']).toBe('req-Abc.123:x_y');
      expect(res.headers['x-neon-ret-request-id']).toBe('req-Abc.123:x_y');
    });

    it('echoes the request id on successful responses too', async () => {
      const res = await request(t.baseUrl).get('/api/v2/auth').set(...auth()).set('X-Request-ID', 'ok-request-1').expect(200);
      expect(res.headers['x-request-id']).toBe('ok-request-1');
      expect(res.headers['x-neon-ret-request-id']).toBe('ok-request-1');
    });

    it('generates a fresh id when none is sent', async () => {
      const a = await request(t.baseUrl).get('/api/v2/auth');
      const b = await request(t.baseUrl).get('/api/v2/auth');
      expectGeneralError(a, 401, 'UNAUTHORIZED');
      expect(a.body.request_id).toMatch(UUID);
      expect(a.headers['x-neon-ret-request-id']).toBe(a.body.request_id);
      expect(b.body.request_id).toMatch(UUID);
      expect(b.body.request_id).not.toBe(a.body.request_id);
    });

    it.each([
      ['contains spaces', 'has spaces in it'],
      ['is too long', 'x'.repeat(129)],
      ['contains a quote', 'abc"def'],
      ['contains a slash', 'a/b'],
    ])('replaces an X-Request-ID that %s with a generated one', async (_why, header) => {
      const res = await request(t.baseUrl).get('/api/v2/auth').set('X-Request-ID', header);
      expectGeneralError(res, 401, 'UNAUTHORIZED');
      expect(res.body.request_id).toMatch(UUID);
      expect(res.headers['x-request-id']).toBe(res.body.request_id);
      expect(res.headers['x-neon-ret-request-id']).toBe(res.body.request_id);
    });

    it('accepts a 128-character request id (the upper bound)', async () => {
      const id = 'a'.repeat(128);
      const res = await request(t.baseUrl).get('/api/v2/auth').set(...auth()).set('X-Request-ID', id).expect(200);
      expect(res.headers['x-request-id']).toBe(id);
    });
  });

  describe('authentication', () => {
    it('401 without a key, with a bad key, and with a malformed Authorization header', async () => {
      for (const header of [undefined, 'Bearer not-a-key', `Basic ${t.adminKey}`, `Bearer ${t.adminKey} extra`, 'Bearer', '']) {
        const req = request(t.baseUrl).get('/api/v2/users/me');
        if (header !== undefined) req.set('Authorization', header);
        expectGeneralError(await req, 401, 'UNAUTHORIZED');
      }
    });

    it("tolerates neonctl's zenith/keycloak_token cookies next to the Bearer header", async () => {
      const res = await request(t.baseUrl)
        .get('/api/v2/users/me')
        .set(...auth())
        .set('Cookie', `zenith=${t.adminKey}; keycloak_token=${t.adminKey}`)
        .expect(200);
      expect(res.body.email).toBe('admin@example.com');
      // The header is authoritative: cookies holding something else do not matter.
      await request(t.baseUrl).get('/api/v2/users/me').set(...auth()).set('Cookie', 'zenith=k; keycloak_token=k').expect(200);
    });

    it('does not accept cookies alone as authentication, even when they hold a valid key', async () => {
      for (const cookie of ['zenith=k; keycloak_token=k', `zenith=${t.adminKey}; keycloak_token=${t.adminKey}`]) {
        const res = await request(t.baseUrl).get('/api/v2/users/me').set('Cookie', cookie);
        expectGeneralError(res, 401, 'UNAUTHORIZED');
      }
    });

    it('does not accept a key in the query string or the body (keys travel only in the Authorization header)', async () => {
      expectGeneralError(
        await request(t.baseUrl).get(`/api/v2/users/me?access_token=${encodeURIComponent(t.adminKey)}`),
        401,
        'UNAUTHORIZED',
      );
      expectGeneralError(
        await request(t.baseUrl).post('/api/v2/organizations').send({ name: 'x', access_token: t.adminKey }),
        401,
        'UNAUTHORIZED',
      );
    });
  });

  describe('bad request bodies', () => {
    it('malformed JSON -> 400 MALFORMED_JSON', async () => {
      const res = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set(...auth())
        .set('Content-Type', 'application/json')
        .send('{"key_name": "x",');
      const body = expectGeneralError(res, 400, 'MALFORMED_JSON');
      expect(body.message).toMatch(/malformed JSON/i);
    });

    it('a JSON body that is not an object (bare string / number) -> 400 MALFORMED_JSON', async () => {
      for (const raw of ['"just a string"', '42', 'null', 'true']) {
        const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...auth()).set('Content-Type', 'application/json').send(raw);
        expectGeneralError(res, 400, 'MALFORMED_JSON');
      }
    });

    it('a JSON array where an object is expected -> 400, not 500', async () => {
      for (const raw of ['[]', '[{"key_name":"x"}]']) {
        const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...auth()).set('Content-Type', 'application/json').send(raw);
        expectGeneralError(res, 400, 'VALIDATION_ERROR');
      }
      const keys = await request(t.baseUrl).get('/api/v2/api_keys').set(...auth()).expect(200);
      expect(keys.body.map((k: { name: string }) => k.name)).not.toContain('x');
    });

    it('a missing body (no content type) -> 400 naming the missing field', async () => {
      const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...auth());
      const body = expectGeneralError(res, 400, 'VALIDATION_ERROR');
      expect(body.message).toContain('[key_name]');
    });

    it('unknown fields -> 400 naming the field, and nothing is created', async () => {
      const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...auth()).send({ key_name: 'unknown-field-key', colour: 'red' });
      const body = expectGeneralError(res, 400, 'VALIDATION_ERROR');
      expect(body.message).toContain('[colour]');
      const keys = await request(t.baseUrl).get('/api/v2/api_keys').set(...auth()).expect(200);
      expect(keys.body.map((k: { name: string }) => k.name)).not.toContain('unknown-field-key');
    });

    it('unknown fields inside nested objects -> 400 naming the full path', async () => {
      const res = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...auth())
        .send({ invitations: [{ email: 'nested@example.com', role: 'member', extra: 1 }] });
      const body = expectGeneralError(res, 400, 'VALIDATION_ERROR');
      expect(body.message).toContain('[invitations.0.extra]');
    });

    it('a "__proto__" key is an unknown field like any other', async () => {
      const res = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set(...auth())
        .set('Content-Type', 'application/json')
        .send('{"key_name":"proto-key","__proto__":{"isPlatformAdmin":true}}');
      expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toContain('[__proto__]');
      const keys = await request(t.baseUrl).get('/api/v2/api_keys').set(...auth()).expect(200);
      expect(keys.body.map((k: { name: string }) => k.name)).not.toContain('proto-key');
    });

    it('NUL characters (which PostgreSQL text cannot hold) -> 400 naming the field, not 500', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['/api/v2/api_keys', { key_name: 'a\u0000b' }, '[key_name]'],
        ['/api/v2/organizations', { name: 'nul\u0000org' }, '[name]'],
        ['/api/v2/admin/accounts', { email: 'nul@example.com', name: 'x\u0000' }, '[name]'],
        [`/api/v2/organizations/${orgId}/invitations`, { invitations: [{ email: 'a@b.co', role: 'member\u0000' }] }, '[invitations.0.role]'],
      ];
      for (const [path, body, field] of cases) {
        const res = await request(t.baseUrl).post(path).set(...auth()).send(body);
        expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toContain(field);
      }
      const query = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members?cursor=%00`).set(...auth());
      expect(expectGeneralError(query, 400, 'VALIDATION_ERROR').message).toContain('[cursor]');
      const orgs = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...auth()).expect(200);
      expect(orgs.body.organizations.map((o: { name: string }) => o.name)).not.toContain('nul\u0000org');
    });

    it('wrong types -> 400 naming each field', async () => {
      const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...auth()).send({ key_name: 12 });
      expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toContain('[key_name] must be a string');

      const nested = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...auth())
        .send({ invitations: [{ email: 42, role: 'owner' }] });
      const msg = expectGeneralError(nested, 400, 'VALIDATION_ERROR').message;
      expect(msg).toContain('[invitations.0.email]');
      expect(msg).toContain('[invitations.0.role]');

      const notArray = await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/invitations`).set(...auth()).send({ invitations: 'a@b.c' });
      expect(expectGeneralError(notArray, 400, 'VALIDATION_ERROR').message).toContain('[invitations]');
    });

    it('a body larger than BODY_LIMIT (1mb by default) -> 400 PAYLOAD_TOO_LARGE, never reaching the handler', async () => {
      const res = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set(...auth())
        .send({ key_name: 'big-key', padding: 'x'.repeat(1024 * 1024 + 10) });
      const body = expectGeneralError(res, 400, 'PAYLOAD_TOO_LARGE');
      expect(body.message).toContain(String(1024 * 1024));
      // Just under the limit is parsed (and then rejected for the unknown field, which proves it was read).
      const under = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set(...auth())
        .send({ key_name: 'big-key', padding: 'x'.repeat(1024 * 1024 - 100) });
      expect(expectGeneralError(under, 400, 'VALIDATION_ERROR').message).toContain('[padding]');
    });

    it('an unsupported charset or encoding is a 400 in the same shape', async () => {
      const res = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set(...auth())
        .set('Content-Type', 'application/json; charset=latin1')
        .send('{"key_name":"x"}');
      expectGeneralError(res, 400, 'VALIDATION_ERROR');
      const gz = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set(...auth())
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send('not gzip at all');
      expect(gz.status).toBe(400);
      expectGeneralError(gz, 400, gz.body.code);
    });
  });

  describe('bad query parameters', () => {
    it.each([
      ['limit=0', '[limit]'],
      ['limit=501', '[limit]'],
      ['limit=abc', '[limit]'],
      ['limit=1.5', '[limit]'],
      ['sort_by=name', '[sort_by]'],
      ['sort_order=up', '[sort_order]'],
      ['unknown=1', '[unknown]'],
    ])('members list with %s -> 400 naming %s', async (qs, field) => {
      const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members?${qs}`).set(...auth());
      expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toContain(field);
    });

    it('a cursor that was not issued by the server -> 400', async () => {
      for (const cursor of ['garbage', Buffer.from('{"k":1}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
        const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members?limit=1&cursor=${cursor}`).set(...auth());
        expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toMatch(/cursor/);
      }
    });

    it('a well-formed cursor whose sort key does not parse for the chosen sort -> 400, not 500', async () => {
      const forged = [
        { k: 'not a timestamp', id: 'x' },
        { k: '2026-01-01 00:00:00+00', id: 'nul\u0000id' },
      ];
      for (const payload of forged) {
        const cursor = Buffer.from(JSON.stringify(payload)).toString('base64url');
        const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members?limit=1&cursor=${cursor}`).set(...auth());
        expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toMatch(/cursor/);
      }
    });

    it('a cursor issued for sort_by=email reused with the default (joined_at) sort -> 400, not 500', async () => {
      // Two members, so the first page of one has a next cursor.
      const other = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...auth()).send({ email: 'cursor-mate@example.com', name: 'Mate' });
      expect(other.status).toBe(201);
      const inv = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...auth())
        .send({ invitations: [{ email: 'cursor-mate@example.com', role: 'member' }] })
        .expect(200);
      await request(t.baseUrl)
        .post(`/api/v2/invitations/${inv.body.invitations[0].id}/accept`)
        .set('Authorization', `Bearer ${other.body.api_key.key}`)
        .expect(200);
      const page = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members?limit=1&sort_by=email`).set(...auth()).expect(200);
      expect(page.body.pagination.next).toEqual(expect.any(String));
      const res = await request(t.baseUrl)
        .get(`/api/v2/organizations/${orgId}/members?limit=1&cursor=${page.body.pagination.next}`)
        .set(...auth());
      expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toMatch(/cursor/);
    });
  });

  describe('bad path ids', () => {
    it.each([
      ['org_id with uppercase', '/api/v2/organizations/ORG-Abc', 'get', 'org_id'],
      ['org_id too long', `/api/v2/organizations/${'a'.repeat(61)}`, 'get', 'org_id'],
      ['org_id with an underscore', '/api/v2/organizations/org_abc/members', 'get', 'org_id'],
      ['key_id non-numeric', '/api/v2/api_keys/abc', 'delete', 'key_id'],
      ['key_id zero', '/api/v2/api_keys/0', 'delete', 'key_id'],
      ['key_id negative', '/api/v2/api_keys/-5', 'delete', 'key_id'],
      ['key_id beyond int64-safe range', '/api/v2/api_keys/99999999999999999999', 'delete', 'key_id'],
      ['org key_id non-numeric', '/api/v2/organizations/ORGID/api_keys/1e3', 'delete', 'key_id'],
      ['member_id not a uuid', '/api/v2/organizations/ORGID/members/not-a-uuid', 'get', 'member_id'],
      ['member_id not a uuid (patch)', '/api/v2/organizations/ORGID/members/123', 'patch', 'member_id'],
      ['invitation_id not a uuid', '/api/v2/invitations/xyz/accept', 'post', 'invitation_id'],
    ] as const)('%s -> 400 naming the parameter', async (_name, rawPath, method, param) => {
      const path = rawPath.replace('ORGID', orgId);
      let req = request(t.baseUrl)[method](path).set(...auth());
      if (method === 'patch') req = req.send({ role: 'member' });
      const res = await req;
      expect(expectGeneralError(res, 400, 'VALIDATION_ERROR').message).toContain(param);
    });
  });

  describe('unknown routes', () => {
    it.each([
      ['get', '/api/v2/no-such-thing'],
      ['get', '/nothing/here'],
      ['put', '/api/v2/auth'],
      ['delete', '/api/v2/users/me'],
    ] as const)('%s %s -> 404 in the same shape, with or without a key', async (method, path) => {
      expectGeneralError(await request(t.baseUrl)[method](path), 404, 'ROUTE_NOT_FOUND');
      const res = await request(t.baseUrl)[method](path).set(...auth()).set('X-Request-ID', 'route-404');
      expectGeneralError(res, 404, 'ROUTE_NOT_FOUND');
      expect(res.body.request_id).toBe('route-404');
    });
  });

  describe('unexpected internal errors', () => {
    it('are logged without the failed query\'s bound values or the row data PostgreSQL echoes back', async () => {
      // A real failed query: TypeORM's QueryFailedError carries `parameters`, and PostgreSQL's `detail`
      // repeats the failing row ("Failing row contains (...)").
      const secret = 'sekrit-value-that-must-not-be-logged';
      const db = t.app.get(DataSource);
      const err = await db
        .query(`INSERT INTO api_keys (kind, name, token_hash) VALUES ($1, $2, $3)`, ['bogus-kind', 'n', secret])
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(JSON.stringify({ ...(err as object), driverError: (err as { driverError?: object }).driverError })).toContain(secret);
      const logged = serializeError(err) as SerializedError;
      expect(JSON.stringify(logged)).not.toContain(secret);
      expect(logged).toMatchObject({ type: 'QueryFailedError', code: '23514', constraint: 'api_keys_kind_check', table: 'api_keys' });
      expect(logged.message).toEqual(expect.any(String));
      expect(logged.stack).toEqual(expect.any(String));
    });

    it('-> 500 "internal server error" with no SQL, table names or stack traces', async () => {
      // Sanity: the endpoint works before the table disappears.
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...auth()).expect(200);
      await adminQuery('DROP TABLE organization_invitations', [], t.database);
      const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...auth()).set('X-Request-ID', 'boom-1');
      expect(res.body).toEqual({ request_id: 'boom-1', code: 'INTERNAL_ERROR', message: 'internal server error' });
      expect(res.status).toBe(500);
      const raw = res.text.toLowerCase();
      for (const leak of ['organization_invitations', 'relation', 'select', 'query', 'typeorm', ' at ', '.ts:', '.js:', 'stack']) {
        expect(raw).not.toContain(leak);
      }
      // The failure is contained: other endpoints keep working.
      await request(t.baseUrl).get('/api/v2/users/me').set(...auth()).expect(200);
    });
  });
});

describe('unpaired UTF-16 surrogates', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are a 400 naming the field, in values and in keys, and change nothing', async () => {
    for (const body of ['{"key_name":"a\\ud800b"}', '{"key_name":"\\udc00"}', '{"key_name":"ok","\\ud800":1}']) {
      const res = await request(t.baseUrl)
        .post('/api/v2/api_keys')
        .set('Authorization', `Bearer ${t.adminKey}`)
        .set('Content-Type', 'application/json')
        .send(body);
      expect([body, res.status, res.body.code]).toEqual([body, 400, 'VALIDATION_ERROR']);
    }
    const keys = await request(t.baseUrl).get('/api/v2/api_keys').set('Authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(keys.body).toHaveLength(1);
    // A properly paired surrogate (an emoji) is fine.
    await request(t.baseUrl)
      .post('/api/v2/api_keys')
      .set('Authorization', `Bearer ${t.adminKey}`)
      .set('Content-Type', 'application/json')
      .send('{"key_name":"\\ud83d\\ude00"}')
      .expect(200);
  });
});
