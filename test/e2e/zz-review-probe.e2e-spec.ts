// SCRATCH probe (to be deleted): prints status codes of odd inputs.
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { api, createProject, type Api } from '../helpers/fixtures.js';

describe('probe', () => {
  let t: TestApp;
  let a: Api;
  let pid: string;
  let bid: string;
  const out: string[] = [];
  const rec = async (label: string, p: Promise<any>) => {
    const r = await p;
    out.push(`${r.status} ${label} :: ${JSON.stringify(r.body).slice(0, 220)}`);
    return r;
  };
  beforeAll(async () => {
    t = await startTestApp();
    a = api(t, t.adminKey);
    const p = await createProject(a, { name: 'probe' });
    pid = p.project.id;
    bid = p.branch.id;
  });
  afterAll(async () => {
    console.log(out.join('\n'));
    await t?.close();
  });

  it('probes', async () => {
    const n63 = 'a'.repeat(63), n64 = 'a'.repeat(64);
    const u63 = 'é'.repeat(31) + 'a'; // 63 bytes
    const u64 = 'é'.repeat(32); // 64 bytes
    for (const l of ['0', '10001', 'abc', '-1', '1.5', '1e3', '99999999999999999999', '']) {
      await rec(`projects limit=${l}`, a.get(`/projects?limit=${l}`));
      await rec(`branches limit=${l}`, a.get(`/projects/${pid}/branches?limit=${l}`));
    }
    for (const c of ['bogus', 'eyJrIjoieCIsImlkIjoieSJ9', Buffer.from(JSON.stringify({ k: 'x', id: 'y' })).toString('base64url'), Buffer.from(JSON.stringify({ k: '2020-01-01', id: 1 })).toString('base64url'), Buffer.from('[1]').toString('base64url'), Buffer.from(JSON.stringify({ k: 'infinity', id: 'y' })).toString('base64url'), Buffer.from(JSON.stringify({ k: '99999-01-01', id: 'y' })).toString('base64url'), '%00', '%ff%fe']) {
      await rec(`projects cursor=${c}`, a.get(`/projects?cursor=${c}`));
      await rec(`branches cursor=${c}`, a.get(`/projects/${pid}/branches?cursor=${c}`));
      await rec(`branches sort name cursor=${c}`, a.get(`/projects/${pid}/branches?sort_by=name&cursor=${c}`));
    }
    for (const s of ['%25', '_', '%5C', '%5C%5C', 'é', '%F0%9F%98%80', "'", '%00']) {
      await rec(`projects search=${s}`, a.get(`/projects?search=${s}`));
      await rec(`branches search=${s}`, a.get(`/projects/${pid}/branches?search=${s}`));
    }
    await rec('projects org_id=UPPER', a.get(`/projects?org_id=UPPER`));
    await rec('projects org_id=nonexist', a.get(`/projects?org_id=org-nope-123`));
    await rec('projects timeout=5', a.get(`/projects?timeout=5`));
    await rec('projects recoverable=yes', a.get(`/projects?recoverable=yes`));
    await rec('projects unknown q', a.get(`/projects?foo=1`));
    // create project odd
    const bodies: [string, unknown][] = [
      ['no project', {}],
      ['project null', { project: null }],
      ['project array', { project: [] }],
      ['name number', { project: { name: 5 } }],
      ['name empty', { project: { name: '' } }],
      ['name 257', { project: { name: 'x'.repeat(257) } }],
      ['name unicode', { project: { name: '😀 projet é' } }],
      ['db name 63', { project: { branch: { database_name: n63 } } }],
      ['db name 64', { project: { branch: { database_name: n64 } } }],
      ['db name u63', { project: { branch: { database_name: u63, role_name: 'r' } } }],
      ['db name u64', { project: { branch: { database_name: u64, role_name: 'r' } } }],
      ['role name 63', { project: { branch: { role_name: n63 } } }],
      ['role name 64', { project: { branch: { role_name: n64 } } }],
      ['role pg_', { project: { branch: { role_name: 'pg_x' } } }],
      ['role public', { project: { branch: { role_name: 'public' } } }],
      ['role none', { project: { branch: { role_name: 'none' } } }],
      ['role current_user', { project: { branch: { role_name: 'current_user' } } }],
      ['db template1', { project: { branch: { database_name: 'template1' } } }],
      ['db postgres', { project: { branch: { database_name: 'postgres' } } }],
      ['db quote', { project: { branch: { database_name: `a"; DROP DATABASE x; --`, role_name: 'o' } } }],
      ['db space', { project: { branch: { database_name: ' ' } } }],
      ['branch name 256', { project: { branch: { name: 'b'.repeat(256) } } }],
      ['pg_version huge', { project: { pg_version: 1e20 } }],
      ['pg_version 16', { project: { pg_version: 16 } }],
      ['hrs huge', { project: { history_retention_seconds: 2 ** 40 } }],
      ['hrs string', { project: { history_retention_seconds: '5' } }],
      ['settings ips bad', { project: { settings: { allowed_ips: { ips: ['x'] } } } }],
      ['settings ips ok', { project: { settings: { allowed_ips: { ips: ['1.2.3.4/33'] } } } }],
      ['settings unknown', { project: { settings: { quota: {} } } }],
      ['store_passwords false', { project: { store_passwords: false } }],
      ['region bad', { project: { region_id: 'aws-us-east-1' } }],
      ['org_id other', { project: { org_id: 'org-nope-12345' } }],
      ['org_id bad', { project: { org_id: 'ORG' } }],
      ['annotations', { project: { branch: { annotations: { a: 'b' } } } }],
    ];
    for (const [label, body] of bodies) await rec(`create ${label}`, a.post('/projects', body as object));
    await rec('create non-json', a.post('/projects').set('Content-Type', 'application/json').send('{"project":'));
    await rec('create text/plain', a.post('/projects').set('Content-Type', 'text/plain').send('hello'));
    // patch
    for (const [label, body] of [
      ['empty', {}],
      ['name null', { project: { name: null } }],
      ['settings null', { project: { settings: null } }],
      ['ips null', { project: { settings: { allowed_ips: null } } }],
      ['ips list null', { project: { settings: { allowed_ips: { ips: null } } } }],
      ['block_public str', { project: { settings: { block_public_connections: 'yes' } } }],
      ['hrs -1', { project: { history_retention_seconds: -1 } }],
    ] as [string, object][]) await rec(`patch ${label}`, a.patch(`/projects/${pid}`, body));
    // branches
    for (const [label, body] of [
      ['no body', undefined],
      ['empty', {}],
      ['name num', { branch: { name: 1 } }],
      ['name unicode', { branch: { name: '分支 😀' } }],
      ['name 256', { branch: { name: 'n'.repeat(256) } }],
      ['name 257', { branch: { name: 'n'.repeat(257) } }],
      ['dup name', { branch: { name: 'main' } }],
      ['parent bogus', { branch: { parent_id: 'br-nope-123456' } }],
      ['parent bad', { branch: { parent_id: 'BR' } }],
      ['endpoints 2', { endpoints: [{ type: 'read_write' }, { type: 'read_write' }] }],
      ['endpoints ro', { endpoints: [{ type: 'read_only' }] }],
      ['endpoints not arr', { endpoints: { type: 'read_write' } }],
      ['parent_timestamp', { branch: { parent_timestamp: '2020-01-01T00:00:00Z' } }],
      ['parent_lsn', { branch: { parent_lsn: '0/0' } }],
    ] as [string, object | undefined][]) await rec(`branch create ${label}`, a.post(`/projects/${pid}/branches`, body));
    await rec('branch get bogus', a.get(`/projects/${pid}/branches/br-nope-123456`));
    await rec('branch get bad', a.get(`/projects/${pid}/branches/BAD`));
    await rec('branch get long', a.get(`/projects/${pid}/branches/${'a'.repeat(61)}`));
    await rec('branch delete default', a.delete(`/projects/${pid}/branches/${bid}`));
    await rec('branch delete hard_delete=x', a.delete(`/projects/${pid}/branches/${bid}?hard_delete=x`));
    // databases
    for (const [label, body] of [
      ['empty', {}],
      ['db null', { database: null }],
      ['no owner', { database: { name: 'x' } }],
      ['owner missing', { database: { name: 'x', owner_name: 'nobody' } }],
      ['63', { database: { name: n63, owner_name: 'neondb_owner' } }],
      ['64', { database: { name: n64, owner_name: 'neondb_owner' } }],
      ['u63', { database: { name: u63, owner_name: 'neondb_owner' } }],
      ['u64', { database: { name: u64, owner_name: 'neondb_owner' } }],
      ['dup neondb', { database: { name: 'neondb', owner_name: 'neondb_owner' } }],
      ['quote', { database: { name: `x"y'z;--`, owner_name: 'neondb_owner' } }],
      ['template1', { database: { name: 'template1', owner_name: 'neondb_owner' } }],
      ['NeonDB case', { database: { name: 'NeonDB', owner_name: 'neondb_owner' } }],
      ['owner pg_', { database: { name: 'y', owner_name: 'pg_read_all_data' } }],
    ] as [string, object][]) await rec(`db create ${label}`, a.post(`/projects/${pid}/branches/${bid}/databases`, body));
    await rec('db list', a.get(`/projects/${pid}/branches/${bid}/databases`));
    // connection_uri
    for (const q of ['', 'database_name=neondb', 'database_name=neondb&role_name=neondb_owner', 'database_name=neondb&role_name=x', `database_name=${n64}&role_name=x`, 'database_name=neondb&role_name=neondb_owner&pooled=maybe', 'database_name=neondb&role_name=neondb_owner&pooled=true', 'database_name=neondb&role_name=neondb_owner&endpoint_id=ep-nope-123456', `database_name=neondb&role_name=neondb_owner&branch_id=${bid}`, 'database_name=neondb&role_name=neondb_owner&branch_id=br-x-1', 'database_name=a&database_name=b&role_name=neondb_owner', 'database_name=%00&role_name=neondb_owner']) {
      await rec(`connection_uri ${q}`, a.get(`/projects/${pid}/connection_uri?${q}`));
    }
    // permissions
    for (const [label, body] of [
      ['empty', {}],
      ['not email', { email: 'x' }],
      ['email num', { email: 5 }],
      ['ok', { email: 'Friend@Example.com' }],
      ['again', { email: 'friend@example.com' }],
      ['long', { email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com` }],
      ['unicode', { email: 'ü@example.com' }],
    ] as [string, object][]) await rec(`perm grant ${label}`, a.post(`/projects/${pid}/permissions`, body));
    await rec('perm list', a.get(`/projects/${pid}/permissions`));
    await rec('perm revoke bogus', a.delete(`/projects/${pid}/permissions/00000000-0000-0000-0000-000000000000`));
    await rec('perm revoke bad', a.delete(`/projects/${pid}/permissions/xyz`));
    await rec('project get nonexist', a.get(`/projects/nope-nope-1`));
    await rec('project shared', a.get(`/projects/shared?limit=0`));
  });
});
