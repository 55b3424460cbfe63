import { useId, useState } from 'preact/hooks';
import type { EnableNeonAuthIntegrationRequest, NeonAuthCreateIntegrationResponse, NeonAuthSupportedAuthProvider } from '../../openapi/client/neon-api';
import { api, call, messageFor } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { Field, FormProblem, Select } from '../ui/form';
import { useAction } from '../ui/use-action';
import { Secret } from '../ui/widgets';
import { AUTH_PROVIDERS } from './choices';


const MANUAL_FIELDS = ['auth_provider_base_url', 'auth_provider_project_id', 'secret_server_key', 'webhook_signing_secret'];

/** Neon Auth is not enabled on the branch: admins enable it here (Quick Start, or Manual with an existing project). */
export function EnableSection({ ctx, admin, onEnabled }: { ctx: BranchContext; admin: boolean; onEnabled(r: NeonAuthCreateIntegrationResponse): void }) {
  const [provider, setProvider] = useState<NeonAuthSupportedAuthProvider>('stack');
  const [mode, setMode] = useState<'quick' | 'manual'>('quick');
  const [databaseName, setDatabaseName] = useState('');
  const [manual, setManual] = useState<Record<string, string>>({});
  const action = useAction();
  const problem = action.problem;
  const busy = action.busy !== null;

  if (!admin) {
    return (
      <section class="card" aria-labelledby="enable-title">
        <h2 id="enable-title">Neon Auth is not enabled on this branch</h2>
        <p>An organization admin can enable it here.</p>
      </section>
    );
  }

  const submit = (e: Event) => {
    e.preventDefault();
    const body: EnableNeonAuthIntegrationRequest = { auth_provider: provider };
    if (databaseName.trim()) body.database_name = databaseName.trim();
    if (mode === 'manual') {
      for (const f of MANUAL_FIELDS) if ((manual[f] ?? '').trim()) (body as unknown as Record<string, string>)[f] = manual[f].trim();
    }
    void action.run('enable', async () => onEnabled(await call(api.auth.createNeonAuth({ projectId: ctx.projectId, branchId: ctx.branchId }, body))));
  };
  const err = (f: string) => messageFor(problem, f);
  const setField = (f: string) => (v: string) => setManual({ ...manual, [f]: v });

  return (
    <section class="card" aria-labelledby="enable-title">
      <h2 id="enable-title">Enable Neon Auth</h2>
      <p>
        Creates the <code>neon_auth</code> schema with <code>users_sync</code> in the branch's database and connects an auth provider to it.
      </p>
      <form noValidate onSubmit={submit} aria-label="Enable Neon Auth">
        <Select label="Auth provider" value={provider} onValue={(v) => setProvider(v as NeonAuthSupportedAuthProvider)} options={[...AUTH_PROVIDERS]} error={err('auth_provider')} />
        <fieldset>
          <legend>Setup</legend>
          <label class="radio">
            <input type="radio" name="setup" checked={mode === 'quick'} onChange={() => setMode('quick')} /> Quick Start: a new provider project, managed by Neon
          </label>
          <label class="radio">
            <input type="radio" name="setup" checked={mode === 'manual'} onChange={() => setMode('manual')} /> Manual: connect an existing Stack Auth project
          </label>
        </fieldset>
        {mode === 'manual' && (
          <div class="manual">
            <Field label="Provider base URL" type="url" value={manual.auth_provider_base_url ?? ''} onValue={setField('auth_provider_base_url')} error={err('auth_provider_base_url')} placeholder="https://api.stack-auth.com" />
            <Field label="Provider project id" value={manual.auth_provider_project_id ?? ''} onValue={setField('auth_provider_project_id')} error={err('auth_provider_project_id')} />
            <Field label="Secret server key" type="password" autoComplete="off" value={manual.secret_server_key ?? ''} onValue={setField('secret_server_key')} error={err('secret_server_key')} hint="Stored encrypted, never shown again." />
            <Field label="Webhook signing secret (optional)" type="password" autoComplete="off" value={manual.webhook_signing_secret ?? ''} onValue={setField('webhook_signing_secret')} error={err('webhook_signing_secret')} hint="whsec_…, from the webhook endpoint you register in your provider." />
          </div>
        )}
        <Field label="Database (optional)" value={databaseName} onValue={setDatabaseName} error={err('database_name')} hint="Where neon_auth.users_sync is created; the branch's default database when empty." />
        <FormProblem problem={problem} shownFields={['auth_provider', 'database_name', ...(mode === 'manual' ? MANUAL_FIELDS : [])]} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Enabling…' : 'Enable Neon Auth'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** The keys of a Quick Start, which the API returns once: shown once, with copy buttons. */
export function KeysOnce({ created, onDismiss }: { created: NeonAuthCreateIntegrationResponse; onDismiss(): void }) {
  const titleId = useId();
  return (
    <section class="card keys" aria-labelledby={titleId}>
      <h2 id={titleId}>Your SDK keys</h2>
      {created.pub_client_key || created.secret_server_key ? (
        <>
          <p class="warning">Copy them now: they are shown only once. The secret server key gives full access to your users.</p>
          {created.pub_client_key && <Secret name="Publishable client key" value={created.pub_client_key} />}
          {created.secret_server_key && <Secret name="Secret server key" value={created.secret_server_key} />}
        </>
      ) : (
        <p>{created.auth_provider === 'better_auth' ? 'Better Auth uses no SDK keys: point the auth SDK at the auth base URL below.' : "Manual setup creates no keys: use your provider project's own keys."}</p>
      )}
      <Secret name="JWKS URL" value={created.jwks_url} />
      {created.base_url && <Secret name="Auth base URL" value={created.base_url} />}
      {created.webhook_url && <Secret name="Webhook URL" value={created.webhook_url} />}
      <div class="actions">
        <button type="button" class="secondary" onClick={onDismiss}>
          I have copied them
        </button>
      </div>
    </section>
  );
}
