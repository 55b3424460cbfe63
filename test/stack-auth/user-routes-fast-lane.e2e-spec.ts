// The provider's hot user routes (POST /users, PATCH and DELETE /users/{id}) are served ahead of Express. This checks
// that the lane really serves them (Nest's guard never runs for them), and that it answers exactly what the
// application answers for the same request taken through Express (a path spelling the lane leaves to it: Express
// routes case-insensitively), for successes and for every kind of refusal.
import request from 'supertest';
import { StackAuthGuard } from '../../src/stack-auth/http/stack-auth.guard.js';
import { createStackProject, clientHeaders, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

interface Sent {
  method: 'post' | 'patch' | 'delete';
  /** After `/stack-auth/api/v1/`: `users` or `users/<id>`; the Express twin spells it `Users`. */
  path: string;
  query?: string;
  headers: Record<string, string>;
  /** A JSON value, or a raw string sent as is with `contentType`. */
  body?: unknown;
  raw?: string;
  contentType?: string;
}

const HEADERS = [
  'content-type',
  'cache-control',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'x-stack-known-error',
  'x-hexclave-known-error',
  'x-stack-actual-status',
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-resource-policy',
  'x-powered-by',
];

describe('embedded provider: the user routes served ahead of Express', () => {
  let t: TestApp;
  let p: StackTestProject;
  let guardRuns = 0;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT: '4kb', METRICS_TOKEN: 'lane-metrics-token' });
    p = await createStackProject(t, 'fast lane');
    const guard = t.app.get(StackAuthGuard);
    const canActivate = guard.canActivate.bind(guard);
    guard.canActivate = (context) => ((guardRuns += 1), canActivate(context));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function send(s: Sent, viaExpress: boolean) {
    const path = viaExpress ? s.path.replace(/^users/, 'Users') : s.path;
    let req = request(t.baseUrl)[s.method](`/stack-auth/api/v1/${path}${s.query ? `?${s.query}` : ''}`).set(s.headers);
    if (s.raw !== undefined) req = req.set('content-type', s.contentType ?? 'application/json').send(s.raw);
    else if (s.body !== undefined) req = req.send(s.body as object);
    const before = guardRuns;
    const res = await req;
    return { res, guardRan: guardRuns > before };
  }

  /** What must be equal between the two: status, the listed headers, the body with ids, times and the path normalised. */
  function shape(res: request.Response) {
    const headers = Object.fromEntries(HEADERS.map((h) => [h, res.headers[h]]));
    const text = res.text
      .replace(/\/stack-auth\/api\/v1\/users/gi, '<path>')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
      .replace(/"signed_up_at_millis":\s*\d+/g, '"signed_up_at_millis":<t>')
      .replace(/"last_active_at_millis":\s*\d+/g, '"last_active_at_millis":<t>')
      .replace(/lane-\d+-[a-z]+@/g, 'lane-N@');
    return { status: res.status, headers, text, requestId: typeof res.headers['x-request-id'] === 'string', stackRequestId: typeof res.headers['x-stack-request-id'] === 'string' };
  }

  /** `routed`: the request reaches routing in the application (a body the parser refuses does not). */
  async function compare(make: (who: 'lane' | 'express') => Sent | Promise<Sent>, routed = true) {
    const lane = await send(await make('lane'), false);
    const express = await send(await make('express'), true);
    expect({ lane: lane.guardRan, express: express.guardRan }).toEqual({ lane: false, express: routed });
    expect(shape(lane.res)).toEqual(shape(express.res));
    return lane.res;
  }

  const email = (who: string) => `lane-${++n}-${who}@example.com`;
  const newUser = async () => (await request(p.baseUrl).post('/api/v1/users').set(serverHeaders(p)).send({ primary_email: email('seed') }).expect(201)).body.id as string;

  it('creates a user: 201 and the server user object', async () => {
    const res = await compare((who) => ({ method: 'post', path: 'users', headers: serverHeaders(p), body: { primary_email: email(who), display_name: 'Lane', client_metadata: { a: 1 } } }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ display_name: 'Lane', client_metadata: { a: 1 } });
  });

  it('updates and deletes a user', async () => {
    const ids = { lane: await newUser(), express: await newUser() };
    const updated = await compare((who) => ({ method: 'patch', path: `users/${ids[who]}`, headers: serverHeaders(p), body: { display_name: 'Renamed', server_metadata: { roles: ['x'] } } }));
    expect(updated.body).toMatchObject({ display_name: 'Renamed', server_metadata: { roles: ['x'] } });
    const deleted = await compare((who) => ({ method: 'delete', path: `users/${ids[who]}`, headers: serverHeaders(p) }));
    expect(deleted.body).toEqual({ success: true });
    // Gone: both answer the provider's USER_NOT_FOUND.
    const again = await compare((who) => ({ method: 'delete', path: `users/${ids[who]}`, headers: serverHeaders(p) }));
    expect(again.body.code).toBe('USER_NOT_FOUND');
  });

  it.each([
    ['an unknown field', { primary_email: 'x@example.com', nope: 1 }],
    ['a wrong type', { primary_email: 42 }],
    ['a NUL character', { primary_email: 'x@example.com', display_name: 'a\u0000b' }],
    ['an array body', [1, 2]],
    ['an e-mail taken', 'taken'],
  ])('refuses a create with %s exactly as the application does', async (_what, body) => {
    if (body === 'taken') {
      const taken = email('taken');
      await request(p.baseUrl).post('/api/v1/users').set(serverHeaders(p)).send({ primary_email: taken, primary_email_auth_enabled: true }).expect(201);
      await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), body: { primary_email: taken, primary_email_auth_enabled: true } }));
      return;
    }
    const res = await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), body }));
    expect(res.status).toBe(400);
  });

  it('refuses what the guard refuses: no access type, client access, a wrong key, an unknown project', async () => {
    const body = { primary_email: 'g@example.com' };
    await compare(() => ({ method: 'post', path: 'users', headers: {}, body }));
    await compare(() => ({ method: 'post', path: 'users', headers: clientHeaders(p), body }));
    await compare(() => ({ method: 'post', path: 'users', headers: { ...serverHeaders(p), 'x-stack-secret-server-key': 'ssk_wrong' }, body }));
    await compare(() => ({ method: 'post', path: 'users', headers: { ...serverHeaders(p), 'x-stack-project-id': '00000000-0000-4000-8000-000000000000' }, body }));
    // With the SDK's x-stack-override-error-status: 200 and the real status in a header.
    const overridden = await compare(() => ({ method: 'post', path: 'users', headers: { ...clientHeaders(p), 'x-stack-override-error-status': 'true' }, body }));
    expect(overridden.status).toBe(200);
    // The hexclave header family works the same.
    await compare((who) => ({ method: 'post', path: 'users', headers: serverHeaders(p, 'hexclave'), body: { primary_email: email(who) } }));
  });

  it('refuses bad JSON, an oversized body and a bad query exactly as the application does', async () => {
    await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), raw: '{"primary_email": ', contentType: 'application/json' }), false);
    await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), raw: '"just a string"', contentType: 'application/json' }), false);
    await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), raw: JSON.stringify({ primary_email: 'big@example.com', display_name: 'x'.repeat(5000) }), contentType: 'application/json' }), false);
    await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), raw: '{"primary_email": "c@example.com"}', contentType: 'application/json; charset=latin1' }), false);
    // Types the lane takes as JSON that the JSON parser does not read: refused as an unread body, never an empty user.
    for (const contentType of ['application/+json', 'application/*+json', 'application/a b+json']) {
      const refused = await compare(() => ({ method: 'post', path: 'users', headers: serverHeaders(p), raw: '{"primary_email": "d@example.com"}', contentType }), false);
      expect(refused.status).toBe(400);
    }
    // A structured-suffix type the parser does read works as JSON.
    const vendor = await compare((who) => ({ method: 'post', path: 'users', headers: serverHeaders(p), raw: JSON.stringify({ primary_email: email(who) }), contentType: 'application/vnd.api+json' }));
    expect(vendor.status).toBe(201);
    const id = await newUser();
    await compare(() => ({ method: 'patch', path: `users/${id}`, query: 'bogus=1', headers: serverHeaders(p), body: { display_name: 'q' } }));
    await compare(() => ({ method: 'delete', path: `users/${id}`, query: 'include_restricted=maybe', headers: serverHeaders(p) }));
    // An unknown user.
    await compare(() => ({ method: 'patch', path: 'users/00000000-0000-4000-8000-000000000000', headers: serverHeaders(p), body: { display_name: 'nobody' } }));
    // Two problems at once: which one is named follows Nest's order (the global check of every parameter first).
    const both = await compare(() => ({ method: 'patch', path: `users/${id}`, query: 'bogus=1', headers: serverHeaders(p), body: { display_name: 'a\u0000b' } }));
    expect(both.body.error).toContain('NUL');
  });

  it('leaves to the application what it does not serve: another body type, `me`, a malformed id', async () => {
    const before = guardRuns;
    await request(p.baseUrl).post('/api/v1/users').set(serverHeaders(p)).set('content-type', 'text/plain').send('{"primary_email":"t@example.com"}').expect(400);
    await request(p.baseUrl).patch('/api/v1/users/not-a-uuid').set(serverHeaders(p)).send({ display_name: 'x' }).expect(400);
    await request(p.baseUrl).delete('/api/v1/users/me').set(serverHeaders(p)).expect(400);
    expect(guardRuns - before).toBeGreaterThanOrEqual(2); // text/plain is refused before the guard; the other two pass it
  });

  it('counts the lane\'s requests in the HTTP metrics under the route templates Express would use', async () => {
    const count = async (method: string, route: string, status: number): Promise<number> => {
      const metrics = (await request(t.baseUrl).get('/metrics').set('Authorization', 'Bearer lane-metrics-token').expect(200)).text;
      const line = metrics.split('\n').find((l) => l.startsWith(`http_requests_total{method="${method}",route="${route}",status="${status}"}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const before = { post: await count('POST', '/stack-auth/api/v1/users', 201), patch: await count('PATCH', '/stack-auth/api/v1/users/:user_id', 200) };
    const guardBefore = guardRuns;
    const id = (await request(p.baseUrl).post('/api/v1/users').set(serverHeaders(p)).send({ primary_email: email('metrics') }).expect(201)).body.id as string;
    await request(p.baseUrl).patch(`/api/v1/users/${id}`).set(serverHeaders(p)).send({ display_name: 'm' }).expect(200);
    expect(guardRuns).toBe(guardBefore); // both served by the lane
    expect(await count('POST', '/stack-auth/api/v1/users', 201)).toBe(before.post + 1);
    expect(await count('PATCH', '/stack-auth/api/v1/users/:user_id', 200)).toBe(before.patch + 1);
  });
});
