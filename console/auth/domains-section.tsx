import { useEffect, useState } from 'preact/hooks';
import type { NeonAuthIntegration } from '../../openapi/client/neon-api';
import { api, call, messageFor, problemOf, type Problem } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { Checkbox, Field, FormProblem } from '../ui/form';
import { Done, useAction } from '../ui/use-action';

/** Where sign-ins may return to: the trusted domains and whether localhost is allowed (applied live by the provider). */
export function DomainsSection({ ctx, integration, admin }: { ctx: BranchContext; integration: NeonAuthIntegration; admin: boolean }) {
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };
  const [domains, setDomains] = useState<string[] | null>(null);
  const [allowLocalhost, setAllowLocalhost] = useState<boolean | null>(null);
  const [newDomain, setNewDomain] = useState('');
  const [loadProblem, setLoadProblem] = useState<Problem | null>(null);
  const [requestedLocalhost, setRequestedLocalhost] = useState<boolean | null>(null);
  const action = useAction();
  const localhostAction = useAction();
  const busy = action.busy !== null;

  const load = async () => {
    try {
      const [list, localhost] = await Promise.all([call(api.auth.listBranchNeonAuthTrustedDomains(ids)), call(api.auth.getNeonAuthAllowLocalhost(ids))]);
      setDomains(list.domains.map((d) => d.domain));
      setAllowLocalhost(localhost.allow_localhost);
      setLoadProblem(null);
    } catch (err) {
      setLoadProblem(problemOf(err));
    }
  };
  useEffect(() => void load(), []);
  // After an add or a remove, only the list: re-reading localhost there could answer with its value from before a
  // save of the box that is still on its way.
  const loadDomains = async () => {
    try {
      setDomains((await call(api.auth.listBranchNeonAuthTrustedDomains(ids))).domains.map((d) => d.domain));
      setLoadProblem(null);
    } catch (err) {
      setLoadProblem(problemOf(err));
    }
  };

  const add = (e: Event) => {
    e.preventDefault();
    void action.run('add', async () => {
      await call(api.auth.addBranchNeonAuthTrustedDomain(ids, { auth_provider: integration.auth_provider, domain: newDomain.trim() }));
      setNewDomain('');
      await loadDomains();
    });
  };
  const remove = (domain: string) =>
    action.run('remove', async () => {
      await call(api.auth.deleteBranchNeonAuthTrustedDomain(ids, { auth_provider: integration.auth_provider, domains: [{ domain }] }));
      await loadDomains();
    });
  // The box shows the value asked for while it is saved (disabled meanwhile), then what the API answered; a refusal
  // puts it back and says why by the box.
  const toggleLocalhost = async (allow: boolean) => {
    setRequestedLocalhost(allow);
    await localhostAction.run(
      'localhost',
      async () => setAllowLocalhost((await call(api.auth.updateNeonAuthAllowLocalhost(ids, { allow_localhost: allow }))).allow_localhost),
      allow ? 'Saved: sign-ins may return to localhost.' : 'Saved: localhost is no longer allowed.',
    );
    setRequestedLocalhost(null);
  };
  const savingLocalhost = localhostAction.busy !== null;

  return (
    <section class="card" aria-labelledby="domains-title">
      <h2 id="domains-title">Domains</h2>
      {allowLocalhost !== null && (
        <Checkbox
          label="Allow localhost (sign-ins may return to http://localhost during development)"
          checked={savingLocalhost && requestedLocalhost !== null ? requestedLocalhost : allowLocalhost}
          disabled={!admin || savingLocalhost}
          onChecked={(allow) => void toggleLocalhost(allow)}
          error={localhostAction.problem?.message}
        />
      )}
      <Done note={localhostAction.done} />
      <h3>Trusted domains</h3>
      {domains === null ? (
        <p role="status">Loading domains…</p>
      ) : domains.length === 0 ? (
        <p>No trusted domains yet.</p>
      ) : (
        <ul class="domains">
          {domains.map((d) => (
            <li key={d}>
              <code>{d}</code>
              {admin && (
                <button type="button" class="secondary" onClick={() => remove(d)} disabled={busy} aria-label={`Remove ${d}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && (
        <form noValidate class="inline-form" onSubmit={add} aria-label="Add a trusted domain">
          <Field label="Domain" value={newDomain} onValue={setNewDomain} placeholder="https://app.example.com" error={messageFor(action.problem, 'domain')} required />
          <div class="actions">
            <button type="submit" disabled={busy || newDomain.trim() === ''}>
              Add domain
            </button>
          </div>
        </form>
      )}
      <FormProblem problem={loadProblem} />
      <FormProblem problem={action.problem} shownFields={['domain']} />
    </section>
  );
}
