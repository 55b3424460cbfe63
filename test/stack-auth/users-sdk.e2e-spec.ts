import { StackClientApp as ClientApp108, StackServerApp as ServerApp108 } from '@stackframe/js';
import { usersCrudServerReadSchema } from '@stackframe/stack-shared/dist/interface/crud/users';
import { StackClientApp as ClientApp102, StackServerApp as ServerApp102 } from 'stackframe-js-2-8-102';
import request from 'supertest';
import { SessionsService } from '../../src/stack-auth/auth/sessions.service.js';
import { StackUsersService } from '../../src/stack-auth/users/stack-users.service.js';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Stack Auth's own SDK, in both versions, against the embedded provider's users API: 2.8.108 sends
 * `x-hexclave-*` headers, 2.8.102 (npm alias stackframe-js-2-8-102) `x-stack-*`. Each version gets its own
 * project, so counts and pages are exact.
 */
interface Sdk {
  name: string;
  // The two versions' classes have different types; the calls made below are the same in both.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ServerApp: new (options: any) => any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ClientApp: new (options: any) => any;
  prefix: 'hexclave' | 'stack';
}
const SDKS: Sdk[] = [
  { name: '@stackframe/js 2.8.108 (x-hexclave headers)', ServerApp: ServerApp108, ClientApp: ClientApp108, prefix: 'hexclave' },
  { name: '@stackframe/js 2.8.102 (x-stack headers)', ServerApp: ServerApp102, ClientApp: ClientApp102, prefix: 'stack' },
];

let t: TestApp;
/** Names of the `x-*` headers the SDK sent to the provider (fetch is wrapped to see them). */
const sentHeaders = new Set<string>();
const realFetch = globalThis.fetch;
beforeAll(async () => {
  t = await startTestApp();
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(t.baseUrl)) {
      for (const name of new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).keys()) {
        if (name.startsWith('x-')) sentHeaders.add(name);
      }
    }
    return realFetch(input, init);
  };
});
afterAll(async () => {
  // The SDK drops its caches 5 s after their last fetch, on timers it does not unref: let them run out
  // while the app is still up, so the worker exits cleanly.
  await new Promise((resolve) => setTimeout(resolve, 5_200));
  globalThis.fetch = realFetch;
  await t?.close();
}, 30_000);

describe.each(SDKS)('users API through $name', ({ ServerApp, ClientApp, prefix }) => {
  let p: StackTestProject;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let app: any;
  const seen: string[] = [];

  beforeAll(async () => {
    sentHeaders.clear();
    p = await createStackProject(t, `SDK ${prefix}`);
    app = new ServerApp({
      projectId: p.projectId,
      publishableClientKey: p.publishableClientKey,
      secretServerKey: p.secretServerKey,
      baseUrl: p.baseUrl,
      tokenStore: 'memory',
    });
  });

  const rawGet = (id: string) => request(`${p.baseUrl}/api/v1`).get(`/users/${id}`).set(serverHeaders(p, prefix));

  it('createUser sends the create body and returns the complete user', async () => {
    const user = await app.createUser({
      primaryEmail: `Alice.${prefix}@Example.com`,
      primaryEmailAuthEnabled: true,
      password: 'hunter2-password',
      displayName: 'Alice',
      serverMetadata: { plan: 'pro', seats: 3 },
      clientMetadata: { theme: 'light' },
      countryCode: 'de',
      riskScores: { signUp: { bot: 7, freeTrialAbuse: 42 } },
    });
    seen.push(user.id);
    expect(user).toMatchObject({
      primaryEmail: `alice.${prefix}@example.com`,
      displayName: 'Alice',
      hasPassword: true,
      serverMetadata: { plan: 'pro', seats: 3 },
      clientMetadata: { theme: 'light' },
      countryCode: 'DE',
      riskScores: { signUp: { bot: 7, freeTrialAbuse: 42 } },
    });
    const raw = await rawGet(user.id).expect(200);
    await usersCrudServerReadSchema.validate(raw.body, { strict: true });
    expect(raw.body.primary_email_auth_enabled).toBe(true);
  });

  it('a duplicate sign-in email is USER_EMAIL_ALREADY_EXISTS, typed by the SDK', async () => {
    await expect(app.createUser({ primaryEmail: `alice.${prefix}@example.com`, primaryEmailAuthEnabled: true })).rejects.toMatchObject({
      errorCode: 'USER_EMAIL_ALREADY_EXISTS',
      statusCode: 409,
    });
  });

  it('listUsers pages through every user with limit and the returned cursor, in both directions', async () => {
    for (let i = 0; i < 6; i++) seen.push((await app.createUser({ displayName: `Page user ${i}`, primaryEmail: `page${i}.${prefix}@example.com` })).id);
    const all = await app.listUsers();
    expect(all.map((u: { id: string }) => u.id).sort()).toEqual([...seen].sort());
    expect(all.nextCursor).toBeNull();

    for (const desc of [false, true]) {
      const ordered = await app.listUsers({ orderBy: 'signedUpAt', desc });
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await app.listUsers({ limit: 3, cursor, orderBy: 'signedUpAt', desc });
        expect(page.length).toBeLessThanOrEqual(3);
        ids.push(...page.map((u: { id: string }) => u.id));
        cursor = page.nextCursor ?? undefined;
        // Opaque to the SDK, which hands it back: a keyset position ending with the page's last user id.
        if (cursor) expect(cursor.endsWith(`.${page[page.length - 1].id}`)).toBe(true);
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3); // 7 users, 3 per page
      expect(ids).toEqual(ordered.map((u: { id: string }) => u.id));
      expect(new Set(ids).size).toBe(7);
    }
    const byActivity = await app.listUsers({ orderBy: 'lastActiveAt', limit: 100 });
    expect(byActivity).toHaveLength(7);
    const found = await app.listUsers({ query: 'PAGE USER 3' });
    expect(found.map((u: { displayName: string }) => u.displayName)).toEqual(['Page user 3']);
  });

  it('getUser returns the user, and null for an unknown id', async () => {
    const user = await app.getUser(seen[0]);
    expect(user).toMatchObject({ id: seen[0], displayName: 'Alice', primaryEmailVerified: false, isAnonymous: false });
    expect(await app.getUser('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('user.update replaces metadata instead of merging, and getUser sees the change', async () => {
    const user = await app.getUser(seen[0]);
    await user.update({ displayName: 'Alice B', serverMetadata: { seats: 5 }, clientMetadata: { theme: 'dark' } });
    const again = await app.getUser(seen[0]);
    expect(again).toMatchObject({ displayName: 'Alice B', serverMetadata: { seats: 5 }, clientMetadata: { theme: 'dark' } });
    expect(again.serverMetadata).toEqual({ seats: 5 }); // `plan` is gone: replaced, not merged
    const raw = await rawGet(seen[0]).expect(200);
    await usersCrudServerReadSchema.validate(raw.body, { strict: true });
    expect(raw.body).toMatchObject({ display_name: 'Alice B', server_metadata: { seats: 5 }, client_metadata: { theme: 'dark' } });
  });

  it('the current user: server getUser with a token store, and the client app reads and updates /users/me', async () => {
    const entity = await t.app.get(StackUsersService).get(p.projectId, seen[0]);
    const tokens = await t.app.get(SessionsService).signIn(entity);
    const me = await app.getUser({ tokenStore: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token } });
    expect(me).toMatchObject({ id: seen[0], displayName: 'Alice B', serverMetadata: { seats: 5 } });

    const client = new ClientApp({
      projectId: p.projectId,
      publishableClientKey: p.publishableClientKey,
      baseUrl: p.baseUrl,
      tokenStore: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token },
    });
    const current = await client.getUser();
    expect(current).toMatchObject({ id: seen[0], displayName: 'Alice B', clientMetadata: { theme: 'dark' } });
    expect((current as unknown as { serverMetadata?: unknown }).serverMetadata).toBeUndefined();
    await current!.update({ displayName: 'Alice C' });
    // Read it raw: the server app's own user cache does not know about the client app's change.
    expect((await rawGet(seen[0]).expect(200)).body.display_name).toBe('Alice C');
  });

  it('user.delete removes the user; getUser then returns null and the list shrinks', async () => {
    const user = await app.getUser(seen[1]);
    await user.delete();
    expect(await app.getUser(seen[1])).toBeNull();
    expect((await app.listUsers()).map((u: { id: string }) => u.id)).not.toContain(seen[1]);
    await rawGet(seen[1]).expect(404);
  });

  it(`the SDK spoke only the x-${prefix}-* header family`, () => {
    const other = prefix === 'stack' ? 'x-hexclave-' : 'x-stack-';
    expect([...sentHeaders]).toEqual(expect.arrayContaining([`x-${prefix}-secret-server-key`, `x-${prefix}-project-id`, `x-${prefix}-access-type`]));
    expect([...sentHeaders].filter((h) => h.startsWith(other))).toEqual([]);
  });
});
