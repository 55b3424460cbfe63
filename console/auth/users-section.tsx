import { useEffect, useState } from 'preact/hooks';
import type { NeonAuthUser } from '../../openapi/client/neon-api';
import { api, call, messageFor, problemOf, type Problem } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { Field, FormProblem } from '../ui/form';
import { useLatest, useRefresh } from '../ui/latest';
import { useAction } from '../ui/use-action';
import { Confirm, When } from '../ui/widgets';

const PAGE_SIZE = 25;
/** The table is read again this often while the page is visible: new users appear within the sync lag plus this. */
const REFRESH_MS = 2000;

/**
 * The branch's users as `neon_auth.users_sync` holds them (GET …/auth/users): search, pages, kept current by reading
 * the page again every REFRESH_MS. Create, delete and roles go to the provider through the API; the table shows the
 * result once the sync engine has written it, never before (so it never shows what users_sync does not hold).
 */
/** `live`: re-read every REFRESH_MS (off while Neon Auth is being disabled: the table is about to go). */
export function UsersSection({ ctx, live }: { ctx: BranchContext; live: boolean }) {
  const [query, setQuery] = useState('');
  const [appliedQuery, setAppliedQuery] = useState('');
  /** Cursors of the pages before this one (the first page has none). */
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [users, setUsers] = useState<NeonAuthUser[] | null>(null);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [deleting, setDeleting] = useState<NeonAuthUser | null>(null);
  const [rolesOf, setRolesOf] = useState<NeonAuthUser | null>(null);
  const [waitingFor, setWaitingFor] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const reads = useLatest(live);

  const load = async () => {
    if (reads.paused) return;
    const seq = reads.start();
    try {
      const page = await call(
        api.auth.listBranchNeonAuthUsers({ projectId: ctx.projectId, branchId: ctx.branchId, limit: PAGE_SIZE, cursor, query: appliedQuery || undefined }),
      );
      if (!reads.take(seq)) return; // a later read has been shown already, or this one is of another page
      setUsers(page.users);
      setNext(page.pagination?.next);
      setProblem(null);
      if (waitingFor && page.users.some((u) => u.id === waitingFor)) setWaitingFor(null);
    } catch (err) {
      if (reads.take(seq)) setProblem(problemOf(err));
    }
  };

  // Another page or search: what was on its way is not shown (this effect runs before the refresh's).
  useEffect(() => {
    setNext(undefined); // until this page has loaded, there is no "next" to go to
    reads.reset();
  }, [cursor, appliedQuery, waitingFor]);
  useRefresh(load, REFRESH_MS, live, [cursor, appliedQuery, waitingFor]);

  // Searching starts from the first page, a moment after typing stops.
  useEffect(() => {
    const t = window.setTimeout(() => {
      if (query.trim() !== appliedQuery) {
        setAppliedQuery(query.trim());
        setCursors([undefined]);
      }
    }, 300);
    return () => window.clearTimeout(t);
  }, [query]);

  return (
    <section class="card" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <CreateUser
        ctx={ctx}
        onCreated={(id) => {
          // Newest sign-ups come first: the first page without a search is where the new user appears.
          setQuery('');
          setAppliedQuery('');
          setCursors([undefined]);
          setWaitingFor(id);
        }}
      />
      {waitingFor && (
        <p class="notice" role="status">
          User created; it appears in the table as soon as <code>users_sync</code> has it.
        </p>
      )}
      <div class="table-tools">
        <Field label="Search users" type="search" value={query} onValue={setQuery} placeholder="e-mail, name or exact id" />
      </div>
      <FormProblem problem={problem} />
      {users === null ? (
        <p role="status">Loading users…</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="Users">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">Roles</th>
                <th scope="col">Signed up</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.length === 0 && (
                <tr>
                  <td colSpan={5}>{appliedQuery ? 'No user matches this search.' : 'No users yet.'}</td>
                </tr>
              )}
              {users.map((u) => (
                <tr key={u.id}>
                  <td>
                    {u.name ?? '—'}
                    <div class="id">
                      <code>{u.id}</code>
                    </div>
                  </td>
                  <td>{u.email ?? '—'}</td>
                  <td>{u.roles.length > 0 ? u.roles.join(', ') : '—'}</td>
                  <td>
                    <When iso={u.created_at} />
                  </td>
                  <td class="row-actions">
                    <button type="button" class="secondary" onClick={() => setRolesOf(u)} aria-label={`Set roles of ${u.email ?? u.id}`}>
                      Roles
                    </button>
                    <button type="button" class="danger" onClick={() => setDeleting(u)} aria-label={`Delete ${u.email ?? u.id}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        <button type="button" class="secondary" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" class="secondary" disabled={!next} onClick={() => next && !cursors.includes(next) && setCursors([...cursors, next])}>
          Next page
        </button>
      </div>
      {deleting && <DeleteUser ctx={ctx} user={deleting} onDone={() => (setDeleting(null), void load())} />}
      {rolesOf && <SetRoles ctx={ctx} user={rolesOf} onDone={() => (setRolesOf(null), void load())} />}
    </section>
  );
}

function CreateUser({ ctx, onCreated }: { ctx: BranchContext; onCreated(id: string): void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const problem = action.problem;
  const busy = action.busy !== null;
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run('create', async () => {
      const body = { email: email.trim(), ...(name.trim() ? { name: name.trim() } : {}), ...(password ? { password } : {}) };
      const { id } = await call(api.auth.createBranchNeonAuthNewUser({ projectId: ctx.projectId, branchId: ctx.branchId }, body));
      setEmail('');
      setName('');
      setPassword('');
      onCreated(id);
    });
  };
  return (
    <form noValidate class="inline-form" onSubmit={submit} aria-label="Create a user">
      <Field label="E-mail" type="email" required value={email} onValue={setEmail} error={messageFor(problem, 'email')} />
      <Field label="Name (optional)" value={name} onValue={setName} error={messageFor(problem, 'name')} />
      <Field label="Password (optional)" type="password" autoComplete="new-password" value={password} onValue={setPassword} error={messageFor(problem, 'password')} />
      <div class="actions">
        <button type="submit" disabled={busy || email.trim() === ''}>
          {busy ? 'Creating…' : 'Create user'}
        </button>
      </div>
      <FormProblem problem={problem} shownFields={['email', 'name', 'password']} />
    </form>
  );
}

function DeleteUser({ ctx, user, onDone }: { ctx: BranchContext; user: NeonAuthUser; onDone(): void }) {
  const action = useAction();
  const problem = action.problem;
  const busy = action.busy !== null;
  const confirm = () =>
    action.run('delete', async () => {
      await call(api.auth.deleteBranchNeonAuthUser({ projectId: ctx.projectId, branchId: ctx.branchId, authUserId: user.id }));
      onDone();
    });
  return (
    <Confirm title="Delete this user?" confirmLabel="Delete user" danger busy={busy} onConfirm={confirm} onCancel={onDone}>
      <p>
        {user.email ?? user.id} is deleted in the provider; its row in <code>users_sync</code> is marked deleted.
      </p>
      <FormProblem problem={problem} />
    </Confirm>
  );
}

function SetRoles({ ctx, user, onDone }: { ctx: BranchContext; user: NeonAuthUser; onDone(): void }) {
  const [roles, setRoles] = useState(user.roles.join(', '));
  const action = useAction();
  const problem = action.problem;
  const busy = action.busy !== null;
  const confirm = () =>
    action.run('roles', async () => {
      const list = roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      await call(api.auth.updateNeonAuthUserRole({ projectId: ctx.projectId, branchId: ctx.branchId, authUserId: user.id }, { roles: list }));
      onDone();
    });
  const fieldError = messageFor(problem, 'roles') ?? (problem ? Object.entries(problem.fields).find(([f]) => f.startsWith('roles.'))?.[1] : undefined);
  return (
    <Confirm title={`Roles of ${user.email ?? user.id}`} confirmLabel="Save roles" busy={busy} onConfirm={confirm} onCancel={onDone}>
      <Field label="Roles" value={roles} onValue={setRoles} error={fieldError} hint='Separated by commas: "user", "admin" or your own.' />
      <FormProblem problem={problem} shownFields={['roles', ...Object.keys(problem?.fields ?? {}).filter((f) => f.startsWith('roles.'))]} />
    </Confirm>
  );
}
