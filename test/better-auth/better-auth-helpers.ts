// Helpers for the Better Auth specs: a cookie jar for Node's fetch (browsers keep cookies; Node does not) and the
// arrangement of a branch with Better Auth enabled.
import { createAuthClient } from 'better-auth/client';
import { adminClient, emailOTPClient, jwtClient, magicLinkClient, organizationClient, phoneNumberClient } from 'better-auth/client/plugins';
import type { TestApp } from '../helpers/test-app.js';
import { api } from '../helpers/fixtures.js';
import { newAuthProject, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';

/** The enable's 201 for better_auth: Neon's shape, empty key fields, and base_url always present. */
export type BetterAuthEnabled = Omit<EnabledAuth, 'auth_provider' | 'base_url'> & { auth_provider: 'better_auth'; base_url: string };

/** Enables better_auth on a branch through the API and answers the 201 body. */
export async function enableBetterAuth(t: TestApp, projectId: string, branchId: string, databaseName?: string): Promise<BetterAuthEnabled> {
  const body: Record<string, string> = { auth_provider: 'better_auth' };
  if (databaseName) body.database_name = databaseName;
  const res = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth`, body);
  if (res.status !== 201) throw new Error(`enable better_auth on ${branchId}: ${res.status} ${res.text}`);
  return res.body as BetterAuthEnabled;
}

/** A project of the admin's organization with Better Auth on its default branch. */
export async function betterAuthProject(t: TestApp, name = 'better auth'): Promise<AuthProject & { auth: BetterAuthEnabled }> {
  const project = await newAuthProject(t, name);
  return { ...project, auth: await enableBetterAuth(t, project.projectId, project.defaultBranchId) };
}

/**
 * A browser's cookie jar for one site, as a fetch: stores what Set-Cookie sets (honouring Max-Age=0 and expired
 * dates), sends the cookies whose path matches, and sends `Origin` as a browser would (Better Auth checks it).
 */
export class CookieJar {
  readonly cookies = new Map<string, { value: string; path: string }>();
  constructor(readonly origin?: string) {}

  fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    const cookie = [...this.cookies.entries()].filter(([, c]) => url.pathname.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`).join('; ');
    if (cookie) headers.set('cookie', cookie);
    if (this.origin && !headers.has('origin')) headers.set('origin', this.origin);
    const response = await fetch(new Request(request, { headers, redirect: 'manual' }));
    for (const line of response.headers.getSetCookie()) this.store(line);
    return response;
  };

  store(line: string): void {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let expired = value === '';
    for (const a of attrs) {
      const [k, v] = a.split('=');
      if (k.toLowerCase() === 'path') path = v;
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, { value, path });
  }

  /** The Set-Cookie attributes of the last response are not kept: this answers the raw header of one cookie name. */
  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

/**
 * Better Auth's own client (`better-auth/client`) with the plugins Neon's SDK loads, its requests through `jar`
 * (one definition: its inferred type is large, and each spec inferring its own made the type check slower).
 */
export function betterAuthClient(baseURL: string, jar: CookieJar) {
  return createAuthClient({
    baseURL,
    fetchOptions: { customFetchImpl: jar.fetch },
    plugins: [jwtClient(), adminClient(), organizationClient(), emailOTPClient(), magicLinkClient(), phoneNumberClient()],
  });
}

/**
 * The cookie jar as a better-fetch plugin. Neon's SDK replaces any `customFetchImpl` with its own (which calls the
 * global fetch), so a jar cannot be given to it as a fetch: this plugin adds the jar's cookies (and a browser's
 * Origin) to every request's headers, which the SDK's fetch passes on, and stores what the responses set.
 */
export function jarPlugin(jar: CookieJar) {
  return {
    id: 'cookie-jar',
    name: 'cookie jar',
    hooks: {
      onRequest(ctx: { url: string | URL; headers: Headers }) {
        const url = new URL(String(ctx.url));
        const cookie = [...jar.cookies.entries()].filter(([, c]) => url.pathname.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`).join('; ');
        if (cookie) ctx.headers.set('cookie', cookie);
        if (jar.origin && !ctx.headers.has('origin')) ctx.headers.set('origin', jar.origin);
      },
      onResponse(ctx: { response: Response }) {
        for (const line of ctx.response.headers.getSetCookie()) jar.store(line);
      },
    },
  };
}
