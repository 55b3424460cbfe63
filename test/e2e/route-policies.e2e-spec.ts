import { Controller, Get, RequestMethod, type INestApplication, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { createLogger } from '../../src/common/logger.js';
import { ACCESS_POLICY_KEY, Access, Policy } from '../../src/iam/policy.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Every HTTP route the server registers, with the access policy it declares. A change to this list is
 * a permission change: review it, then update EXPECTED_ROUTES. A route without a policy fails the
 * test (and is refused at runtime, see the second describe).
 */

/** Served by Swagger UI outside Nest's controllers: documentation only, no API data. */
const OUTSIDE_NEST = 'public (swagger, outside Nest)';

const EXPECTED_ROUTES: readonly string[] = [
  'DELETE /api/v2/api_keys/:key_id -> personal_key',
  'DELETE /api/v2/organizations/:org_id/api_keys/:key_id -> org_admin',
  'DELETE /api/v2/organizations/:org_id/members/:member_id -> org_admin_personal',
  'DELETE /api/v2/projects/:project_id -> project_admin',
  'DELETE /api/v2/projects/:project_id/auth/domains -> project_admin',
  'DELETE /api/v2/projects/:project_id/auth/integration/:auth_provider -> project_admin',
  'DELETE /api/v2/projects/:project_id/auth/oauth_providers/:oauth_provider_id -> project_admin',
  'DELETE /api/v2/projects/:project_id/auth/users/:auth_user_id -> project_write',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id -> project_write',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id/auth -> project_admin',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id/auth/domains -> project_admin',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id/auth/oauth_providers/:oauth_provider_id -> project_admin',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id/auth/users/:auth_user_id -> project_write',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id/databases/:database_name -> project_write',
  'DELETE /api/v2/projects/:project_id/branches/:branch_id/roles/:role_name -> project_write',
  'DELETE /api/v2/projects/:project_id/permissions/:permission_id -> project_write',
  'DELETE /stack-auth/api/v1/auth/sessions/current -> embedded_provider',
  'DELETE /stack-auth/api/v1/internal/projects/current -> embedded_provider',
  'DELETE /stack-auth/api/v1/users/:user_id -> embedded_provider',
  'DELETE /stack-auth/api/v1/users/me -> embedded_provider',
  'GET /api/docs -> public (swagger, outside Nest)',
  'GET /api/docs-json -> public (swagger, outside Nest)',
  'GET /api/docs-yaml -> public (swagger, outside Nest)',
  'GET /api/docs/ -> public (swagger, outside Nest)',
  'GET /api/docs/LICENSE -> public (swagger, outside Nest)',
  'GET /api/docs/docs/swagger-ui-init.js -> public (swagger, outside Nest)',
  'GET /api/docs/index.html -> public (swagger, outside Nest)',
  'GET /api/docs/swagger-ui-init.js -> public (swagger, outside Nest)',
  'GET /api/v2/api_keys -> personal_key',
  'GET /api/v2/auth -> authenticated',
  'GET /api/v2/organizations/:org_id -> org_member',
  'GET /api/v2/organizations/:org_id/api_keys -> org_admin',
  'GET /api/v2/organizations/:org_id/audit_log -> org_admin',
  'GET /api/v2/organizations/:org_id/invitations -> org_member',
  'GET /api/v2/organizations/:org_id/members -> org_member',
  'GET /api/v2/organizations/:org_id/members/:member_id -> org_member',
  'GET /api/v2/projects -> authenticated',
  'GET /api/v2/projects/:project_id -> project_read',
  'GET /api/v2/projects/:project_id/auth/domains -> project_read',
  'GET /api/v2/projects/:project_id/auth/email_server -> project_read',
  'GET /api/v2/projects/:project_id/auth/integrations -> project_read',
  'GET /api/v2/projects/:project_id/auth/oauth_providers -> project_read',
  'GET /api/v2/projects/:project_id/branches -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/allow_localhost -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/domains -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/email_and_password -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/email_provider -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/mailbox -> project_admin',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/oauth_providers -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/plugins -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/plugins/phone-number -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/sync -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/sync/dead_letters -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/users -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/webhooks -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/auth/webhooks/deliveries -> project_admin',
  'GET /api/v2/projects/:project_id/branches/:branch_id/databases -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/databases/:database_name -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/roles -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/roles/:role_name -> project_read',
  'GET /api/v2/projects/:project_id/branches/:branch_id/roles/:role_name/reveal_password -> project_read',
  'GET /api/v2/projects/:project_id/connection_uri -> project_read',
  'GET /api/v2/projects/:project_id/operations -> project_read',
  'GET /api/v2/projects/:project_id/operations/:operation_id -> project_read',
  'GET /api/v2/projects/:project_id/permissions -> project_read',
  'GET /api/v2/projects/shared -> authenticated',
  'GET /api/v2/users/me -> authenticated',
  'GET /api/v2/users/me/organizations -> authenticated',
  'GET /console -> public',
  'GET /console/assets/:name -> public',
  'GET /health -> public',
  'GET /health/live -> public',
  'GET /metrics -> public',
  'GET /stack-auth/api/v1/integrations/neon/projects/transfer -> embedded_provider',
  'GET /stack-auth/api/v1/internal/projects/current -> embedded_provider',
  'GET /stack-auth/api/v1/projects/:project_id/.well-known/jwks.json -> embedded_provider',
  'GET /stack-auth/api/v1/projects/current -> embedded_provider',
  'GET /stack-auth/api/v1/users -> embedded_provider',
  'GET /stack-auth/api/v1/users/:user_id -> embedded_provider',
  'GET /stack-auth/api/v1/users/me -> embedded_provider',
  'GET /stack-auth/integrations/neon/projects/transfer/confirm -> embedded_provider',
  'PATCH /api/v2/organizations/:org_id/members/:member_id -> org_admin',
  'PATCH /api/v2/projects/:project_id -> project_write',
  'PATCH /api/v2/projects/:project_id/auth/email_server -> project_admin',
  'PATCH /api/v2/projects/:project_id/auth/oauth_providers/:oauth_provider_id -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/allow_localhost -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/config -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/email_and_password -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/email_provider -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/oauth_providers/:oauth_provider_id -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/plugins/magic-link -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/plugins/organization -> project_admin',
  'PATCH /api/v2/projects/:project_id/branches/:branch_id/auth/plugins/phone-number -> project_admin',
  'PATCH /stack-auth/api/v1/internal/projects/current -> embedded_provider',
  'PATCH /stack-auth/api/v1/users/:user_id -> embedded_provider',
  'PATCH /stack-auth/api/v1/users/me -> embedded_provider',
  'POST /api/v2/admin/accounts -> platform_admin',
  'POST /api/v2/api_keys -> personal_key',
  'POST /api/v2/invitations/:invitation_id/accept -> personal_key',
  'POST /api/v2/organizations -> personal_key',
  'POST /api/v2/organizations/:org_id/api_keys -> org_admin_personal',
  'POST /api/v2/organizations/:org_id/invitations -> org_admin_personal',
  'POST /api/v2/projects -> project_create',
  'POST /api/v2/projects/:project_id/auth/domains -> project_admin',
  'POST /api/v2/projects/:project_id/auth/oauth_providers -> project_admin',
  'POST /api/v2/projects/:project_id/branches -> project_write',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/domains -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/email_provider/test -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/oauth_providers -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/send_test_email -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/sync -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/sync/dead_letters/replay -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/users -> project_write',
  'POST /api/v2/projects/:project_id/branches/:branch_id/auth/webhooks/deliveries/:delivery_id/replay -> project_admin',
  'POST /api/v2/projects/:project_id/branches/:branch_id/databases -> project_write',
  'POST /api/v2/projects/:project_id/branches/:branch_id/roles -> project_write',
  'POST /api/v2/projects/:project_id/permissions -> project_write',
  'POST /api/v2/projects/auth/create -> authenticated',
  'POST /api/v2/projects/auth/keys -> authenticated',
  'POST /api/v2/projects/auth/transfer_ownership -> authenticated',
  'POST /api/v2/projects/auth/user -> authenticated',
  'POST /stack-auth/api/v1/auth/oauth/token -> embedded_provider',
  'POST /stack-auth/api/v1/auth/password/sign-in -> embedded_provider',
  'POST /stack-auth/api/v1/auth/password/sign-up -> embedded_provider',
  'POST /stack-auth/api/v1/auth/sessions/current/refresh -> embedded_provider',
  'POST /stack-auth/api/v1/integrations/neon/api-keys -> embedded_provider',
  'POST /stack-auth/api/v1/integrations/neon/projects/provision -> embedded_provider',
  'POST /stack-auth/api/v1/integrations/neon/projects/transfer -> embedded_provider',
  'POST /stack-auth/api/v1/integrations/neon/webhooks -> embedded_provider',
  'POST /stack-auth/api/v1/users -> embedded_provider',
  'POST /stack-auth/integrations/neon/projects/transfer/confirm -> embedded_provider',
  'PUT /api/v2/projects/:project_id/branches/:branch_id/auth/users/:auth_user_id/role -> project_write',
  'PUT /api/v2/projects/:project_id/branches/:branch_id/auth/webhooks -> project_admin',
];

const NO_POLICY = '<NO POLICY>';

function joinPath(...parts: string[]): string {
  const joined = `/${parts.filter(Boolean).join('/')}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/** `METHOD path` -> policy, for every handler of every controller Nest knows, resolved as AccessGuard does. */
function nestRoutes(app: INestApplication): Map<string, string> {
  const reflector = app.get(Reflector);
  const scanner = new MetadataScanner();
  const routes = new Map<string, string>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller) continue;
      const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (paths === undefined) continue; // not a route handler
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const policy = reflector.getAllAndOverride<Policy | undefined>(ACCESS_POLICY_KEY, [handler, controller]) ?? NO_POLICY;
        for (const prefix of prefixes) {
          for (const path of ([] as string[]).concat(paths)) {
            const key = `${method} ${joinPath(prefix, path)}`;
            if (routes.has(key)) throw new Error(`route ${key} is declared twice`);
            routes.set(key, policy);
          }
        }
      }
    }
  }
  return routes;
}

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** `METHOD path` for every route really mounted on the Express router. */
function expressRoutes(app: INestApplication): string[] {
  const instance = app.getHttpAdapter().getInstance() as { router?: { stack: ExpressLayer[] }; _router?: { stack: ExpressLayer[] } };
  const stack = (instance.router ?? instance._router)?.stack;
  if (!stack) throw new Error('cannot find the Express router stack');
  const out: string[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') out.push(`${method.toUpperCase()} ${layer.route.path}`);
    }
  }
  return out;
}

/** The sorted `METHOD path -> policy` list of everything mounted on the app's router. */
function routePolicyList(app: INestApplication): string[] {
  const nest = nestRoutes(app);
  const mounted = expressRoutes(app);
  // Nest's view and Express's must agree: no controller route missing, none mounted twice.
  expect(new Set(mounted).size).toBe(mounted.length);
  for (const route of nest.keys()) expect(mounted).toContain(route);
  return mounted.map((route) => `${route} -> ${nest.get(route) ?? OUTSIDE_NEST}`).sort();
}

function assertAllGuarded(list: string[]): void {
  const unguarded = list.filter((line) => line.endsWith(`-> ${NO_POLICY}`));
  if (unguarded.length > 0) {
    throw new Error(`routes without an @Access(Policy.X) declaration (they are refused at runtime):\n  ${unguarded.join('\n  ')}`);
  }
}

describe('route policies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every route declares exactly one policy, and the list equals the reviewed snapshot', () => {
    expect(nestRoutes(t.app).size).toBeGreaterThan(10);
    const actual = routePolicyList(t.app);
    assertAllGuarded(actual);
    const outside = actual.filter((l) => l.endsWith(OUTSIDE_NEST)).map((l) => l.split(' -> ')[0]);
    for (const route of outside) expect(route).toMatch(/^GET \/api\/docs/);

    const expected = [...EXPECTED_ROUTES].sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      const added = actual.filter((l) => !expected.includes(l));
      const removed = expected.filter((l) => !actual.includes(l));
      throw new Error(
        [
          'The route/policy list changed. This is a permission change: review it, then update EXPECTED_ROUTES in',
          'test/e2e/route-policies.e2e-spec.ts with the actual list below.',
          `  added or changed:\n    ${added.join('\n    ') || '(none)'}`,
          `  removed or changed:\n    ${removed.join('\n    ') || '(none)'}`,
          'Actual list:',
          ...actual.map((l) => `  '${l}',`),
        ].join('\n'),
      );
    }
    expect(actual).toEqual(expected);
    expect(EXPECTED_ROUTES).toEqual(expected); // the snapshot itself is kept sorted
  });

  it('every declared policy is a known Policy value', () => {
    const known = new Set<string>(Object.values(Policy));
    for (const [route, policy] of nestRoutes(t.app)) {
      expect({ route, known: known.has(policy) }).toEqual({ route, known: true });
    }
  });
});

let probeHandlerCalls = 0;

@Controller('test-only')
class PolicyProbeController {
  @Get('no-policy')
  noPolicy(): { ok: boolean } {
    probeHandlerCalls++;
    return { ok: true };
  }

  @Get('with-policy')
  @Access(Policy.Authenticated)
  withPolicy(): { ok: boolean } {
    return { ok: true };
  }

  @Get('public')
  @Access(Policy.Public)
  publicRoute(): { ok: boolean } {
    return { ok: true };
  }
}

describe('a route without a declared policy is refused at runtime (deny by default)', () => {
  let t: TestApp;
  let probe: INestApplication;
  let probeUrl: string;

  beforeAll(async () => {
    t = await startTestApp();
    // The real AppModule (so the real global AccessGuard and error filter) over this file's database,
    // plus a controller that forgot @Access on one route.
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(t.config, createLogger('silent'))],
      controllers: [PolicyProbeController],
    }).compile();
    probe = moduleRef.createNestApplication({ logger: false });
    await probe.listen(0, '127.0.0.1');
    probeUrl = await probe.getUrl();
    probeUrl = probeUrl.replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await probe?.close();
    await t?.close();
  });

  it('the probe harness works: a declared policy lets a valid key through and stops a missing one', async () => {
    await request(probeUrl).get('/test-only/with-policy').set('Authorization', `Bearer ${t.adminKey}`).expect(200, { ok: true });
    const res = await request(probeUrl).get('/test-only/with-policy').expect(401);
    expect(res.body).toEqual({ request_id: expect.any(String), code: 'UNAUTHORIZED', message: expect.any(String) });
    await request(probeUrl).get('/test-only/public').expect(200, { ok: true });
  });

  it('no @Access -> 403 FORBIDDEN, even for the platform admin, and the handler never runs', async () => {
    for (const headers of [{ Authorization: `Bearer ${t.adminKey}` }, {}]) {
      const res = await request(probeUrl).get('/test-only/no-policy').set(headers);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ request_id: expect.any(String), code: 'FORBIDDEN', message: expect.stringMatching(/policy/) });
    }
    expect(probeHandlerCalls).toBe(0);
  });

  it('the route-list walk reports the probe route as unguarded', () => {
    const routes = nestRoutes(probe);
    expect(routes.get('GET /test-only/no-policy')).toBe(NO_POLICY);
    expect(routes.get('GET /test-only/with-policy')).toBe(Policy.Authenticated);
    expect(routes.get('GET /api/v2/auth')).toBe(Policy.Authenticated);
    expect(() => assertAllGuarded(routePolicyList(probe))).toThrow(/GET \/test-only\/no-policy/);
  });
});
