import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { renderOpenApiJson } from '../../src/generate-openapi.js';
import { apiClient } from '../helpers/client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const SPEC_PATH = path.resolve('openapi/openapi.json');
const CLIENT_PATH = path.resolve('openapi/client/neon-api.ts');

describe('OpenAPI spec, Swagger UI and the generated client', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the committed openapi/openapi.json is up to date (run `npm run openapi` after changing the API)', async () => {
    const fresh = await renderOpenApiJson();
    const committed = fs.readFileSync(SPEC_PATH, 'utf8');
    expect(committed === fresh).toBe(true);
  });

  it('the committed generated client matches the committed spec', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-client-'));
    const script = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts['openapi:client'] as string;
    const args = script
      .replace(/^swagger-typescript-api /, '')
      .replace('--output openapi/client', `--output ${out}`)
      .split(/\s+/);
    execFileSync(path.resolve('node_modules/.bin/swagger-typescript-api'), args, { stdio: 'pipe' });
    expect(fs.readFileSync(path.join(out, 'neon-api.ts'), 'utf8') === fs.readFileSync(CLIENT_PATH, 'utf8')).toBe(true);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('every operation declares an access policy, and all but public ones require the bearer key', () => {
    const spec = JSON.parse(fs.readFileSync(SPEC_PATH, 'utf8'));
    expect(spec.components.securitySchemes.BearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [p, item] of Object.entries<Record<string, Record<string, unknown>>>(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const policy = op['x-access-policy'];
        expect([`${method} ${p}`, typeof policy]).toEqual([`${method} ${p}`, 'string']);
        if (policy !== 'public') {
          expect([`${method} ${p}`, op.security]).toEqual([`${method} ${p}`, [{ BearerAuth: [] }]]);
        }
        expect((op.responses as Record<string, unknown>).default).toBeDefined();
      }
    }
    expect(spec.components.schemas.GeneralError.required).toEqual(['request_id', 'code', 'message']);
  });

  it('every operation declares its 4xx responses besides default: 401 unless public, its policy refusals, 400 when it takes input', () => {
    const spec = JSON.parse(fs.readFileSync(SPEC_PATH, 'utf8'));
    // What AccessService refuses per policy; the org and project policies also check the id in the path (400).
    const refusals: Record<string, string[]> = {
      public: [],
      authenticated: ['401'],
      personal_key: ['401', '403'],
      platform_admin: ['401', '403'],
      project_create: ['401', '403'],
      org_member: ['400', '401', '403', '404'],
      org_admin: ['400', '401', '403', '404'],
      org_admin_personal: ['400', '401', '403', '404'],
      project_read: ['400', '401', '404'],
      project_write: ['400', '401', '404'],
      project_admin: ['400', '401', '403', '404'],
    };
    for (const [p, item] of Object.entries<Record<string, Record<string, unknown>>>(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const name = `${method} ${p}`;
        const responses = op.responses as Record<string, { content?: Record<string, { schema: unknown }> }>;
        const errors = Object.keys(responses).filter((status) => /^4\d\d$/.test(status));
        const policy = op['x-access-policy'] as string;
        expect([name, errors.length > 0]).toEqual([name, true]);
        if (policy !== 'public') expect([name, errors]).toEqual([name, expect.arrayContaining(['401'])]);
        expect([name, errors]).toEqual([name, expect.arrayContaining(refusals[policy])]);
        const parameters = (op.parameters as { name: string }[] | undefined) ?? [];
        const takesInput = parameters.length > 0 || op.requestBody !== undefined;
        expect([name, errors.includes('400')]).toEqual([name, takesInput]);
        if (parameters.some((param) => param.name === 'Idempotency-Key')) {
          expect([name, errors]).toEqual([name, expect.arrayContaining(['409', '422'])]);
        }
        for (const status of Object.keys(responses).filter((s) => !/^2\d\d$/.test(s))) {
          expect([name, status, responses[status].content?.['application/json']?.schema]).toEqual([
            name,
            status,
            { $ref: '#/components/schemas/GeneralError' },
          ]);
        }
      }
    }
  });

  it('serves Swagger UI at /api/docs, never persisting the Bearer key in the browser, and JSON at /api/docs-json', async () => {
    const html = await request(t.baseUrl).get('/api/docs').expect(200);
    expect(html.text).toContain('swagger-ui');
    const init = await request(t.baseUrl).get('/api/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain('"persistAuthorization": false');
    expect(init.text).not.toContain('"persistAuthorization": true');
    const json = await request(t.baseUrl).get('/api/docs-json').expect(200);
    expect(json.body).toEqual(JSON.parse(fs.readFileSync(SPEC_PATH, 'utf8')));
  });

  it('the generated client drives the API', async () => {
    const api = apiClient(t.baseUrl, t.adminKey);
    const auth = await api.users.getAuthDetails();
    expect(auth.data.auth_method).toBe('api_key_user');
    const created = await api.apiKey.createApiKey({ key_name: 'from-generated-client' });
    expect(created.status).toBe(200);
    const listed = await apiClient(t.baseUrl, created.data.key).apiKey.listApiKeys();
    expect(listed.data.map((k) => k.name)).toContain('from-generated-client');
    const failed = await apiClient(t.baseUrl, 'napi_wrong').users.getAuthDetails().catch((e: Response) => e);
    expect((failed as Response).status).toBe(401);
  });
});
