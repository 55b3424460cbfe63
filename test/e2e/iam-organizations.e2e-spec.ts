import request from 'supertest';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * IAM, part 2: organizations (create, get), members (list with keyset pagination and sorting, get,
 * change role, remove; an organization keeps at least one admin) and invitations (list, create,
 * accept with the invitee's personal key).
 */

interface Account {
  id: string;
  email: string;
  key: string;
}

interface MemberWithUser {
  member: { id: string; user_id: string; org_id: string; role: 'admin' | 'member'; joined_at?: string };
  user: { email: string };
}

const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('IAM: organizations, members and invitations', () => {
  let t: TestApp;
  let counter = 0;

  async function newAccount(label: string): Promise<Account> {
    const email = `${label}-${++counter}@example.com`;
    const res = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...bearer(t.adminKey)).send({ email, name: label });
    expect(res.status).toBe(201);
    return { id: res.body.account.id, email, key: res.body.api_key.key };
  }

  async function newOrg(owner: Account, name = 'Org'): Promise<string> {
    const res = await request(t.baseUrl).post('/api/v2/organizations').set(...bearer(owner.key)).send({ name });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** Invites `who` with `role` and accepts with their own key; returns the membership. */
  async function join(orgId: string, admin: Account, who: Account, role: 'admin' | 'member'): Promise<{ id: string; role: string }> {
    const inv = await request(t.baseUrl)
      .post(`/api/v2/organizations/${orgId}/invitations`)
      .set(...bearer(admin.key))
      .send({ invitations: [{ email: who.email, role }] });
    expect(inv.status).toBe(200);
    const acc = await request(t.baseUrl).post(`/api/v2/invitations/${inv.body.invitations[0].id}/accept`).set(...bearer(who.key));
    expect(acc.status).toBe(200);
    return acc.body;
  }

  async function orgKeyFor(orgId: string, admin: Account): Promise<string> {
    const res = await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(admin.key)).send({ key_name: 'org' });
    expect(res.status).toBe(200);
    return res.body.key;
  }

  async function allMembers(orgId: string, key: string, qs = ''): Promise<MemberWithUser[]> {
    const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members${qs}`).set(...bearer(key));
    expect(res.status).toBe(200);
    return res.body.members;
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('organizations', () => {
    it('POST /organizations -> 201; the caller becomes its only member, as admin', async () => {
      const alice = await newAccount('create-alice');
      const res = await request(t.baseUrl).post('/api/v2/organizations').set(...bearer(alice.key)).send({ name: 'Acme Widgets' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[a-z0-9-]{1,60}$/),
        name: 'Acme Widgets',
        handle: expect.stringMatching(/^acme-widgets-[a-z0-9]+$/),
        plan: expect.any(String),
        managed_by: expect.any(String),
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });
      const members = await allMembers(res.body.id, alice.key);
      expect(members).toEqual([
        { member: { id: expect.any(String), user_id: alice.id, org_id: res.body.id, role: 'admin', joined_at: expect.stringMatching(ISO) }, user: { email: alice.email } },
      ]);
    });

    it('GET /organizations/{id} -> the organization, for members and for its organization key', async () => {
      const owner = await newAccount('get-owner');
      const orgId = await newOrg(owner, 'Gettable');
      const member = await newAccount('get-member');
      await join(orgId, owner, member, 'member');
      const orgKey = await orgKeyFor(orgId, owner);
      for (const key of [owner.key, member.key, orgKey]) {
        const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(key)).expect(200);
        expect(res.body).toMatchObject({ id: orgId, name: 'Gettable' });
      }
    });

    it('create: bad bodies -> 400; org and project keys -> 403; no key -> 401', async () => {
      const owner = await newAccount('create-bad');
      for (const body of [{}, { name: '' }, { name: '   ' }, { name: 7 }, { name: 'x'.repeat(257) }, { name: 'ok', plan: 'scale' }]) {
        const res = await request(t.baseUrl).post('/api/v2/organizations').set(...bearer(owner.key)).send(body);
        expect(res.status).toBe(400);
      }
      const orgId = await newOrg(owner);
      const orgKey = await orgKeyFor(orgId, owner);
      await request(t.baseUrl).post('/api/v2/organizations').set(...bearer(orgKey)).send({ name: 'by key' }).expect(403);
      await request(t.baseUrl).post('/api/v2/organizations').send({ name: 'anon' }).expect(401);
      const orgs = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(owner.key)).expect(200);
      expect(orgs.body.organizations).toHaveLength(1);
    });

    it('a non-existent organization -> 404', async () => {
      const res = await request(t.baseUrl).get('/api/v2/organizations/org-does-not-exist-1').set(...bearer(t.adminKey)).expect(404);
      expect(res.body.code).toBe('NOT_FOUND');
    });
  });

  describe('members', () => {
    let owner: Account;
    let orgId: string;
    const people: Account[] = [];

    beforeAll(async () => {
      owner = await newAccount('m-owner');
      orgId = await newOrg(owner, 'Members Inc');
      // Letters first so the email order is the same under any collation.
      for (const [label, role] of [
        ['dora', 'member'],
        ['bert', 'admin'],
        ['ella', 'member'],
        ['carl', 'member'],
        ['abby', 'member'],
      ] as const) {
        const p = await newAccount(label);
        await join(orgId, owner, p, role);
        people.push(p);
      }
    });

    it('lists every member with its user email (default: joined_at desc)', async () => {
      const members = await allMembers(orgId, owner.key);
      expect(members).toHaveLength(6);
      expect(members.map((m) => m.user.email)).toEqual([...people].reverse().map((p) => p.email).concat(owner.email));
      for (const m of members) {
        expect(m.member).toEqual({ id: expect.any(String), user_id: expect.any(String), org_id: orgId, role: expect.stringMatching(/^(admin|member)$/), joined_at: expect.stringMatching(ISO) });
      }
      const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members`).set(...bearer(owner.key)).expect(200);
      expect(res.body.pagination).toEqual({ sort_by: 'joined_at', sort_order: 'desc' });
    });

    it.each([
      ['email', 'asc'],
      ['email', 'desc'],
      ['role', 'asc'],
      ['role', 'desc'],
      ['joined_at', 'asc'],
      ['joined_at', 'desc'],
    ] as const)('sort_by=%s sort_order=%s, paged with limit=2 + cursor, yields the same complete order', async (sortBy, order) => {
      const full = await allMembers(orgId, owner.key, `?sort_by=${sortBy}&sort_order=${order}`);
      expect(full).toHaveLength(6);
      const key = (m: MemberWithUser): string => (sortBy === 'email' ? m.user.email : sortBy === 'role' ? m.member.role : m.member.joined_at!);
      // The order is really by the requested key.
      for (let i = 1; i < full.length; i++) {
        const [a, b] = [key(full[i - 1]), key(full[i])];
        if (sortBy === 'email' || sortBy === 'role') {
          expect(order === 'asc' ? a <= b : a >= b).toBe(true);
        } else {
          expect(order === 'asc' ? Date.parse(a) <= Date.parse(b) : Date.parse(a) >= Date.parse(b)).toBe(true);
        }
      }
      if (sortBy === 'email') {
        const emails = [owner, ...people].map((p) => p.email).sort();
        expect(full.map((m) => m.user.email)).toEqual(order === 'asc' ? emails : emails.reverse());
      }
      if (sortBy === 'role') {
        const admins = full.filter((m) => m.member.role === 'admin').length;
        expect(admins).toBe(2);
        const roles = full.map((m) => m.member.role);
        expect(roles).toEqual(order === 'asc' ? ['admin', 'admin', 'member', 'member', 'member', 'member'] : ['member', 'member', 'member', 'member', 'admin', 'admin']);
      }

      const paged: MemberWithUser[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const qs = `?sort_by=${sortBy}&sort_order=${order}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members${qs}`).set(...bearer(owner.key)).expect(200);
        expect(res.body.members.length).toBeLessThanOrEqual(2);
        expect(res.body.pagination).toMatchObject({ sort_by: sortBy, sort_order: order });
        paged.push(...res.body.members);
        cursor = res.body.pagination.next;
        pages++;
        expect(pages).toBeLessThanOrEqual(4);
      } while (cursor);
      expect(pages).toBe(3);
      expect(paged.map((m) => m.member.id)).toEqual(full.map((m) => m.member.id));
    });

    it('limit larger than the list -> everything, with no next cursor', async () => {
      const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members?limit=500`).set(...bearer(owner.key)).expect(200);
      expect(res.body.members).toHaveLength(6);
      expect(res.body.pagination.next).toBeUndefined();
    });

    it('GET one member -> Member; a member of another organization -> 404', async () => {
      const members = await allMembers(orgId, owner.key);
      const dora = members.find((m) => m.user.email === people[0].email)!;
      const res = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members/${dora.member.id}`).set(...bearer(people[2].key)).expect(200);
      expect(res.body).toEqual(dora.member);

      const stranger = await newAccount('m-stranger');
      const otherOrg = await newOrg(stranger);
      const theirs = (await allMembers(otherOrg, stranger.key))[0];
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members/${theirs.member.id}`).set(...bearer(owner.key)).expect(404);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members/00000000-0000-4000-8000-000000000000`).set(...bearer(owner.key)).expect(404);
    });

    it('PATCH role: admins (personal key or organization key) may; members may not (403)', async () => {
      const members = await allMembers(orgId, owner.key);
      const carl = members.find((m) => m.user.email === people[3].email)!;
      const ella = people[2];

      const denied = await request(t.baseUrl)
        .patch(`/api/v2/organizations/${orgId}/members/${carl.member.id}`)
        .set(...bearer(ella.key))
        .send({ role: 'admin' })
        .expect(403);
      expect(denied.body.code).toBe('FORBIDDEN');

      const promoted = await request(t.baseUrl)
        .patch(`/api/v2/organizations/${orgId}/members/${carl.member.id}`)
        .set(...bearer(owner.key))
        .send({ role: 'admin' })
        .expect(200);
      expect(promoted.body).toEqual({ ...carl.member, role: 'admin' });
      expect((await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members/${carl.member.id}`).set(...bearer(owner.key))).body.role).toBe('admin');

      const orgKey = await orgKeyFor(orgId, owner);
      const demoted = await request(t.baseUrl)
        .patch(`/api/v2/organizations/${orgId}/members/${carl.member.id}`)
        .set(...bearer(orgKey))
        .send({ role: 'member' })
        .expect(200);
      expect(demoted.body.role).toBe('member');

      for (const body of [{ role: 'owner' }, {}, { role: 'admin', extra: 1 }]) {
        await request(t.baseUrl).patch(`/api/v2/organizations/${orgId}/members/${carl.member.id}`).set(...bearer(owner.key)).send(body).expect(400);
      }
    });

    it('a promoted member gains admin powers at once; a demoted admin loses them at once', async () => {
      const members = await allMembers(orgId, owner.key);
      const abby = people[4];
      const abbyMember = members.find((m) => m.user.email === abby.email)!;
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(abby.key)).expect(403);
      await request(t.baseUrl).patch(`/api/v2/organizations/${orgId}/members/${abbyMember.member.id}`).set(...bearer(owner.key)).send({ role: 'admin' }).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(abby.key)).expect(200);
      await request(t.baseUrl).patch(`/api/v2/organizations/${orgId}/members/${abbyMember.member.id}`).set(...bearer(owner.key)).send({ role: 'member' }).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(abby.key)).expect(403);
    });

    it('DELETE: personal key of an admin only; members and organization keys -> 403', async () => {
      const victim = await newAccount('m-victim');
      const membership = await join(orgId, owner, victim, 'member');
      const orgKey = await orgKeyFor(orgId, owner);

      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/members/${membership.id}`).set(...bearer(people[0].key)).expect(403);
      const byKey = await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/members/${membership.id}`).set(...bearer(orgKey)).expect(403);
      expect(byKey.body.code).toBe('FORBIDDEN');
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(victim.key)).expect(200);

      const res = await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/members/${membership.id}`).set(...bearer(owner.key)).expect(200);
      expect(res.body).toEqual({});
      // Access ends with the membership: the organization is now outside the key's reach.
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(victim.key)).expect(404);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members/${membership.id}`).set(...bearer(owner.key)).expect(404);
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/members/${membership.id}`).set(...bearer(owner.key)).expect(404);
    });

    it('the last admin can be neither demoted nor removed (409 LAST_ADMIN); with a second admin, it can', async () => {
      const solo = await newAccount('solo-admin');
      const soloOrg = await newOrg(solo);
      const [me] = await allMembers(soloOrg, solo.key);
      const orgKey = await orgKeyFor(soloOrg, solo);

      const demote = await request(t.baseUrl).patch(`/api/v2/organizations/${soloOrg}/members/${me.member.id}`).set(...bearer(solo.key)).send({ role: 'member' });
      expect(demote.status).toBe(409);
      expect(demote.body).toEqual({ request_id: expect.any(String), code: 'LAST_ADMIN', message: expect.any(String) });
      await request(t.baseUrl).patch(`/api/v2/organizations/${soloOrg}/members/${me.member.id}`).set(...bearer(orgKey)).send({ role: 'member' }).expect(409);
      const remove = await request(t.baseUrl).delete(`/api/v2/organizations/${soloOrg}/members/${me.member.id}`).set(...bearer(solo.key));
      expect(remove.status).toBe(409);
      expect(remove.body.code).toBe('LAST_ADMIN');
      // Re-asserting admin on the last admin is fine.
      await request(t.baseUrl).patch(`/api/v2/organizations/${soloOrg}/members/${me.member.id}`).set(...bearer(solo.key)).send({ role: 'admin' }).expect(200);
      expect((await allMembers(soloOrg, solo.key))[0].member.role).toBe('admin');

      // A plain member can be removed even when only one admin remains.
      const plain = await newAccount('solo-plain');
      const plainMembership = await join(soloOrg, solo, plain, 'member');
      await request(t.baseUrl).delete(`/api/v2/organizations/${soloOrg}/members/${plainMembership.id}`).set(...bearer(solo.key)).expect(200);

      const second = await newAccount('solo-second');
      await join(soloOrg, solo, second, 'admin');
      await request(t.baseUrl).patch(`/api/v2/organizations/${soloOrg}/members/${me.member.id}`).set(...bearer(solo.key)).send({ role: 'member' }).expect(200);
      // Now `second` is the last admin.
      const secondMember = (await allMembers(soloOrg, second.key)).find((m) => m.user.email === second.email)!;
      const last = await request(t.baseUrl).delete(`/api/v2/organizations/${soloOrg}/members/${secondMember.member.id}`).set(...bearer(second.key));
      expect(last.status).toBe(409);
      expect(last.body.code).toBe('LAST_ADMIN');
    });

    it('two concurrent demotions of the only two admins: exactly one wins', async () => {
      const a = await newAccount('race-a');
      const raceOrg = await newOrg(a);
      const b = await newAccount('race-b');
      await join(raceOrg, a, b, 'admin');
      const members = await allMembers(raceOrg, a.key);
      const results = await Promise.all(
        members.map((m) =>
          request(t.baseUrl).patch(`/api/v2/organizations/${raceOrg}/members/${m.member.id}`).set(...bearer(a.key)).send({ role: 'member' }),
        ),
      );
      // The loser is refused either by the last-admin rule (409), or, when the winner demoted the caller
      // itself first, by the access check (403: the caller is no longer an admin). Never both succeed.
      const statuses = results.map((r) => r.status).sort();
      expect(statuses[0]).toBe(200);
      expect([403, 409]).toContain(statuses[1]);
      const admins = await adminQuery(`SELECT id FROM organization_members WHERE org_id = $1 AND role = 'admin'`, [raceOrg], t.database);
      expect(admins).toHaveLength(1);
    });
  });

  describe('invitations', () => {
    let owner: Account;
    let orgId: string;
    let member: Account;
    let orgKey: string;

    beforeAll(async () => {
      owner = await newAccount('i-owner');
      orgId = await newOrg(owner, 'Inviting');
      member = await newAccount('i-member');
      await join(orgId, owner, member, 'member');
      orgKey = await orgKeyFor(orgId, owner);
    });

    it('create (personal admin key) -> 200 with the invitations; list shows them pending', async () => {
      const res = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...bearer(owner.key))
        .send({ invitations: [{ email: 'Pending.One@Example.com', role: 'member' }, { email: 'pending.two@example.com', role: 'admin' }] })
        .expect(200);
      expect(res.body.invitations).toEqual([
        { id: expect.any(String), email: 'pending.one@example.com', org_id: orgId, invited_by: owner.id, invited_at: expect.stringMatching(ISO), role: 'member' },
        { id: expect.any(String), email: 'pending.two@example.com', org_id: orgId, invited_by: owner.id, invited_at: expect.stringMatching(ISO), role: 'admin' },
      ]);
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).expect(200);
      expect(list.body.invitations).toEqual(expect.arrayContaining(res.body.invitations));
    });

    it('create: members -> 403; organization keys -> 403 (a personal admin key is required); nothing is created', async () => {
      for (const key of [member.key, orgKey]) {
        const res = await request(t.baseUrl)
          .post(`/api/v2/organizations/${orgId}/invitations`)
          .set(...bearer(key))
          .send({ invitations: [{ email: 'not-invited@example.com', role: 'member' }] });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).expect(200);
      expect(list.body.invitations.map((i: { email: string }) => i.email)).not.toContain('not-invited@example.com');
    });

    it('create: inviting an existing member -> 409; the same email twice in one request -> 400; bad roles -> 400', async () => {
      const dup = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...bearer(owner.key))
        .send({ invitations: [{ email: member.email.toUpperCase(), role: 'admin' }] });
      expect(dup.status).toBe(409);
      await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...bearer(owner.key))
        .send({ invitations: [{ email: 'twice@example.com', role: 'admin' }, { email: 'TWICE@example.com', role: 'member' }] })
        .expect(400);
      for (const invitations of [[], [{ email: 'x@example.com', role: 'owner' }], [{ email: 'nope', role: 'member' }]]) {
        await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).send({ invitations }).expect(400);
      }
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).expect(200);
      const emails = list.body.invitations.map((i: { email: string }) => i.email);
      expect(emails).not.toContain('twice@example.com');
      expect(emails).not.toContain(member.email);
    });

    it('list: members and the organization key may read it; project keys may not', async () => {
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(member.key)).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(orgKey)).expect(200);
      const projectId = 'inv-project-1';
      await adminQuery(`INSERT INTO projects (id, org_id, name, region_id, pg_version) VALUES ($1, $2, 'p', 'local', 17)`, [projectId, orgId], t.database);
      const pk = await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(owner.key)).send({ key_name: 'p', project_id: projectId }).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(pk.body.key)).expect(403);
    });

    it.each(['member', 'admin'] as const)('accept with the invitee\'s personal key -> membership with the invited role (%s)', async (role) => {
      const invitee = await newAccount(`invitee-${role}`);
      const inv = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...bearer(owner.key))
        .send({ invitations: [{ email: invitee.email.toUpperCase(), role }] })
        .expect(200);
      const invitationId = inv.body.invitations[0].id;
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(invitee.key)).expect(404);

      const res = await request(t.baseUrl).post(`/api/v2/invitations/${invitationId}/accept`).set(...bearer(invitee.key)).expect(200);
      expect(res.body).toEqual({ id: expect.any(String), user_id: invitee.id, org_id: orgId, role, joined_at: expect.stringMatching(ISO) });

      // The membership is real: the organization is now in reach, with the invited role's powers.
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(invitee.key)).expect(200);
      const orgs = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(invitee.key)).expect(200);
      expect(orgs.body.organizations.map((o: { id: string }) => o.id)).toEqual([orgId]);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(invitee.key)).expect(role === 'admin' ? 200 : 403);
      const members = await allMembers(orgId, owner.key);
      expect(members.find((m) => m.user.email === invitee.email)?.member).toEqual(res.body);
      // Accepted invitations are no longer pending.
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).expect(200);
      expect(list.body.invitations.map((i: { id: string }) => i.id)).not.toContain(invitationId);

      // Accepting twice -> 409.
      const again = await request(t.baseUrl).post(`/api/v2/invitations/${invitationId}/accept`).set(...bearer(invitee.key)).expect(409);
      expect(again.body.code).toBe('CONFLICT');
    });

    it('someone else accepting -> 404 (the invitation is not revealed) and the invitee still can', async () => {
      const invitee = await newAccount('invitee-real');
      const intruder = await newAccount('invitee-intruder');
      const inv = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...bearer(owner.key))
        .send({ invitations: [{ email: invitee.email, role: 'admin' }] })
        .expect(200);
      const id = inv.body.invitations[0].id;
      for (const key of [intruder.key, owner.key, t.adminKey]) {
        const res = await request(t.baseUrl).post(`/api/v2/invitations/${id}/accept`).set(...bearer(key)).expect(404);
        expect(res.body.code).toBe('NOT_FOUND');
      }
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(intruder.key)).expect(404);
      await request(t.baseUrl).post(`/api/v2/invitations/${id}/accept`).set(...bearer(orgKey)).expect(403);
      await request(t.baseUrl).post(`/api/v2/invitations/${id}/accept`).set(...bearer(invitee.key)).expect(200);
      // Once accepted, others still get 404, not a hint that it exists.
      await request(t.baseUrl).post(`/api/v2/invitations/${id}/accept`).set(...bearer(intruder.key)).expect(404);
      await request(t.baseUrl).post('/api/v2/invitations/00000000-0000-4000-8000-000000000000/accept').set(...bearer(invitee.key)).expect(404);
    });

    it('re-inviting a pending email updates its role instead of duplicating it', async () => {
      const email = 'reinvite@example.com';
      await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).send({ invitations: [{ email, role: 'member' }] }).expect(200);
      await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).send({ invitations: [{ email, role: 'admin' }] }).expect(200);
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(owner.key)).expect(200);
      const mine = list.body.invitations.filter((i: { email: string }) => i.email === email);
      expect(mine).toHaveLength(1);
      expect(mine[0].role).toBe('admin');
    });
  });
});
