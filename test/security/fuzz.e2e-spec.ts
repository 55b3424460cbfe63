import fs from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../helpers/random.js';
import { addMember, adminOrgId, api, createProject, newAccount } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

/**
 * A bounded, seeded fuzz run against every operation of the committed OpenAPI document: generated paths, query
 * strings, headers and bodies (from each operation's schema, then broken in every way a client can break them),
 * sent by callers of every standing. No answer may be a 5xx, and callers change nothing they may not write.
 *
 * Reproduce a run with FUZZ_SEED=<seed> (printed on failure); FUZZ_REQUESTS sets the size (default 3000).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 8;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: Json[];
  allOf?: Schema[];
  format?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

const spec = JSON.parse(fs.readFileSync(path.resolve('openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
};

const OPERATIONS: Operation[] = Object.entries(spec.paths).flatMap(([p, item]) =>
  Object.entries(item).map(([method, op]) => ({
    method,
    path: p,
    parameters: op.parameters ?? [],
    body: op.requestBody?.content['application/json']?.schema,
  })),
);

function resolve(schema: Schema | undefined): Schema {
  if (!schema) return {};
  if (schema.$ref) return resolve(spec.components.schemas[schema.$ref.split('/').pop()!]);
  if (schema.allOf) return schema.allOf.map(resolve).reduce<Schema>((a, b) => ({ ...a, ...b, properties: { ...a.properties, ...b.properties } }), {});
  return schema;
}

/** Values no field expects: wrong types, edges, encodings PostgreSQL refuses, prototype keys, deep nesting. */
const NASTY: Json[] = [
  null,
  '',
  ' ',
  'a'.repeat(5000),
  '\u0000',
  'x\u0000y',
  '\ud800',
  '😀'.repeat(70),
  "'; DROP TABLE projects; --",
  '../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
  -1,
  0,
  1.5,
  2 ** 53,
  -(2 ** 63),
  1e308,
  true,
  false,
  [],
  [null],
  {},
  { __proto__: { admin: true } } as unknown as Json,
  JSON.parse('{"__proto__": {"polluted": true}}') as Json,
  { constructor: { prototype: { x: 1 } } },
];

class Fuzzer {
  constructor(
    private readonly rnd: () => number,
    private readonly ids: Record<string, string[]>,
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)];
  }

  chance(p: number): boolean {
    return this.rnd() < p;
  }

  /** A value that fits `schema` most of the time, and a nasty one otherwise. */
  value(schema: Schema | undefined, depth = 0): Json {
    const s = resolve(schema);
    if (this.chance(0.15) || depth > 4) return this.pick(NASTY);
    if (s.enum) return this.chance(0.8) ? (this.pick(s.enum) as Json) : 'not-in-the-enum';
    switch (s.type) {
      case 'object': {
        const out: Record<string, Json> = {};
        for (const [k, v] of Object.entries(s.properties ?? {})) {
          if ((s.required ?? []).includes(k) ? this.chance(0.9) : this.chance(0.5)) out[k] = this.value(v, depth + 1);
        }
        if (this.chance(0.1)) out[`unknown_${Math.floor(this.rnd() * 100)}`] = this.pick(NASTY);
        return out;
      }
      case 'array':
        return Array.from({ length: Math.floor(this.rnd() * (this.chance(0.05) ? 200 : 4)) }, () => this.value(s.items, depth + 1));
      case 'integer':
      case 'number':
        return this.pick([0, 1, 7, 100, -5, s.minimum ?? 1, s.maximum ?? 1000, (s.maximum ?? 1000) + 1, 2 ** 31, 3.7]);
      case 'boolean':
        return this.chance(0.8) ? this.chance(0.5) : 'true';
      case 'string':
      default:
        if (s.format === 'email') return this.pick(['fuzz@example.com', 'not-an-email', `${'a'.repeat(300)}@example.com`, 'FUZZ@Example.COM']);
        if (s.format === 'uri' || s.format === 'url') return this.pick(['http://127.0.0.1:1', 'not a url', 'ftp://x', 'http://[::1]:1/']);
        return this.pick(['main', 'neondb', 'neondb_owner', 'fuzz', 'a'.repeat((s.maxLength ?? 64) + 1), ...Object.values(this.ids).flat()]);
    }
  }

  pathParam(name: string): string {
    const own = this.ids[name] ?? [];
    return encodeURIComponent(
      this.chance(0.6) && own.length > 0
        ? this.pick(own)
        : this.pick(['br-does-not-exist-00000000', 'x', '..', '%2e%2e', 'a'.repeat(300), 'ÄÖ', ' ', '-1', '99999999999999999999999', '0', "1' OR '1'='1", '\u0000']),
    );
  }

  request(op: Operation): { method: string; url: string; headers: Record<string, string>; body?: string } {
    const url = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => this.pathParam(name));
    const query = new URLSearchParams();
    for (const p of op.parameters.filter((q) => q.in === 'query')) {
      if (this.chance(0.5)) query.append(p.name, String(this.value(p.schema)));
    }
    if (this.chance(0.1)) query.append(this.pick(['access_token', 'cursor', 'limit', '__proto__', 'org_id']), String(this.pick(NASTY)));
    const headers: Record<string, string> = {};
    if (this.chance(0.1)) headers['X-Request-ID'] = this.pick(['fuzz-1', 'a'.repeat(500), 'bad id with spaces', '\t']);
    if (this.chance(0.1)) headers['Idempotency-Key'] = this.pick(['k1', 'a'.repeat(300), 'ünicode', ' ']);
    if (this.chance(0.05)) headers['X-Forwarded-For'] = '203.0.113.7';
    let body: string | undefined;
    if (['post', 'put', 'patch', 'delete'].includes(op.method) && (op.body || this.chance(0.3))) {
      headers['Content-Type'] = this.chance(0.9) ? 'application/json' : this.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/xml']);
      const r = this.rnd();
      if (r < 0.05) body = '{"truncated": ';
      else if (r < 0.08) body = JSON.stringify(this.pick(NASTY));
      else if (r < 0.1) body = `${'['.repeat(2000)}${']'.repeat(2000)}`;
      else body = JSON.stringify(this.value(op.body ?? { type: 'object' }));
    }
    const qs = query.toString();
    return { method: op.method.toUpperCase(), url: `${url}${qs ? `?${qs}` : ''}`, headers, body };
  }
}

describe(`fuzz: every operation of openapi/openapi.json (seed ${SEED}, ${REQUESTS} requests)`, () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  const ids: Record<string, string[]> = {};
  let orgA: string;

  beforeAll(async () => {
    // API-key throttling off: every caller here sends from 127.0.0.1, and the bad key's failures would otherwise get
    // every later caller a 429 for the rest of the window, fuzzing nothing (throttling has its own tests).
    t = await startTestApp({ PROJECTS_LIMIT: '4', BRANCHES_LIMIT: '4', API_KEY_RATE_LIMIT_PER_IP: '0' });
    const admin = api(t, t.adminKey);
    orgA = await adminOrgId(t);
    const project = await createProject(admin, { name: 'fuzzed' });
    await admin.post(`/projects/${project.project.id}/branches/${project.branch.id}/auth`, { auth_provider: 'stack' }).expect(201);
    const user = await admin.post(`/projects/${project.project.id}/branches/${project.branch.id}/auth/users`, { email: 'fuzzed-user@example.com' }).expect(201);
    const orgKey = await admin.post(`/organizations/${orgA}/api_keys`, { key_name: 'fuzzed' }).expect(200);
    const member = await newAccount(t, 'fuzz-member');
    await addMember(t, t.adminKey, orgA, member, 'member');
    const stranger = await newAccount(t, 'fuzz-stranger');
    const strangerOrg = await api(t, stranger.key).post('/organizations', { name: 'elsewhere' }).expect(201);
    const strangerProject = await createProject(api(t, stranger.key), { name: 'theirs', org_id: strangerOrg.body.id });
    const projectKey = await api(t, stranger.key).post(`/organizations/${strangerOrg.body.id}/api_keys`, { key_name: 'p', project_id: strangerProject.project.id }).expect(200);
    const members = await admin.get(`/organizations/${orgA}/members`).expect(200);
    Object.assign(keys, { stranger: stranger.key, projectKeyElsewhere: projectKey.body.key, none: '', bad: 'napi_not_a_real_key', member: member.key });
    Object.assign(ids, {
      project_id: [project.project.id, strangerProject.project.id],
      branch_id: [project.branch.id, strangerProject.branch.id],
      org_id: [orgA, strangerOrg.body.id],
      key_id: [String(orgKey.body.id)],
      member_id: (members.body.members as { member: { id: string } }[]).map((m) => m.member.id),
      auth_user_id: [user.body.id],
      auth_provider: ['stack', 'mock', 'better_auth'],
      invitation_id: ['00000000-0000-4000-8000-000000000000'],
      permission_id: ['00000000-0000-4000-8000-000000000000'],
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  /**
   * A digest of organization A's data: what only its admins may change (the organization, members, organization keys,
   * invitations, Neon Auth integrations), and with `projects`, also its projects and branches (which members may change).
   */
  async function stateOfA(projects: boolean): Promise<string> {
    const rows = await adminQuery<{ digest: string }>(
      `SELECT md5(concat_ws('|',
         (SELECT string_agg(o::text, ',' ORDER BY o.id) FROM organizations o WHERE o.id = $1),
         (SELECT string_agg(m::text, ',' ORDER BY m.id) FROM organization_members m WHERE m.org_id = $1),
         (SELECT string_agg(concat(k.id, k.revoked_at, k.name), ',' ORDER BY k.id) FROM api_keys k WHERE k.org_id = $1),
         (SELECT string_agg(i::text, ',' ORDER BY i.id) FROM organization_invitations i WHERE i.org_id = $1),
         (SELECT string_agg(concat(n.id, n.branch_id, n.owned_by, n.transfer_status), ',' ORDER BY n.id)
            FROM neon_auth_integrations n JOIN projects p ON p.id = n.project_id WHERE p.org_id = $1),
         CASE WHEN $2 THEN (SELECT string_agg(concat(p.id, p.name, p.settings::text), ',' ORDER BY p.id) FROM projects p WHERE p.org_id = $1) END,
         CASE WHEN $2 THEN (SELECT string_agg(concat(b.id, b.name), ',' ORDER BY b.id) FROM branches b JOIN projects p ON p.id = b.project_id WHERE p.org_id = $1) END
       )) AS digest`,
      [orgA, projects],
      t.database,
    );
    return rows[0].digest;
  }

  async function fuzz(caller: string, count: number, rnd: () => number, concurrency = CONCURRENCY): Promise<string[]> {
    const f = new Fuzzer(rnd, ids);
    const plan = Array.from({ length: count }, (_, i) => ({ i, req: f.request(OPERATIONS[i % OPERATIONS.length]) }));
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const { i, req } = plan[next++];
        const headers = { ...req.headers, ...(keys[caller] ? { Authorization: `Bearer ${keys[caller]}` } : {}) };
        const res = await fetch(`${t.baseUrl}${req.url}`, { method: req.method, headers, body: req.body });
        const text = await res.text();
        if (res.status >= 500) failures.push(`#${i} ${caller} ${req.method} ${req.url} ${req.body?.slice(0, 200) ?? ''} -> ${res.status} ${text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return failures;
  }

  it('callers outside organization A get no 5xx and change nothing of it', async () => {
    const rnd = seededRandom(SEED);
    const before = await stateOfA(true);
    const failures: string[] = [];
    for (const caller of ['none', 'bad', 'stranger', 'projectKeyElsewhere']) failures.push(...(await fuzz(caller, Math.floor(REQUESTS / 6), rnd)));
    expect({ seed: SEED, failures }).toEqual({ seed: SEED, failures: [] });
    expect(await stateOfA(true)).toBe(before);
  });

  it("a member of organization A gets no 5xx and changes nothing only its admins may change", async () => {
    const rnd = seededRandom(SEED + 2);
    const before = await stateOfA(false);
    const failures = await fuzz('member', Math.floor(REQUESTS / 6), rnd);
    expect({ seed: SEED, failures }).toEqual({ seed: SEED, failures: [] });
    expect(await stateOfA(false)).toBe(before);
  });

  it("organization A's admin gets no 5xx either", async () => {
    const rnd = seededRandom(SEED + 1);
    // One request at a time: the admin may delete what its other requests use, and a run must be the same for a seed.
    const failures = await fuzz('admin', Math.floor(REQUESTS / 6), rnd, 1);
    expect({ seed: SEED, failures }).toEqual({ seed: SEED, failures: [] });
  });

  beforeAll(() => {
    keys.admin = t.adminKey;
  });
});
