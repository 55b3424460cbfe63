import { useState } from 'preact/hooks';
import type { NeonAuthCreateIntegrationResponse, NeonAuthIntegration } from '../../openapi/client/neon-api';
import { api, call } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { FormProblem } from '../ui/form';
import { useAction } from '../ui/use-action';
import { Secret, When } from '../ui/widgets';
import { PROVIDER_NAMES } from './choices';
import { KeysOnce } from './enable-section';


/** The integration as the API reports it, and the admin's actions on the provider project (keys, transfer). */
export function IntegrationStatus({ ctx, integration, admin, onChanged }: { ctx: BranchContext; integration: NeonAuthIntegration; admin: boolean; onChanged(): void }) {
  const [keys, setKeys] = useState<NeonAuthCreateIntegrationResponse | null>(null);
  const [transferUrl, setTransferUrl] = useState<string | null>(null);
  const action = useAction();
  const busy = action.busy;
  // The project-level operations (SDK keys, transfer) act on the project's default branch.
  const projectLevel = ctx.branch.default;
  const managedByNeon = integration.owned_by === 'neon';
  const body = { project_id: ctx.projectId, auth_provider: integration.auth_provider };

  const generateKeys = () => action.run('keys', async () => setKeys(await call(api.authLegacy.createNeonAuthProviderSdkKeys(body))));
  const transfer = () =>
    action.run('transfer', async () => {
      setTransferUrl((await call(api.authLegacy.transferNeonAuthProviderProject(body))).url);
      onChanged();
    });

  return (
    <section class="card" aria-labelledby="status-title">
      <h2 id="status-title">Neon Auth is enabled</h2>
      <dl class="facts">
        <dt>Provider</dt>
        <dd>{PROVIDER_NAMES[integration.auth_provider] ?? integration.auth_provider}</dd>
        <dt>Provider project</dt>
        <dd>
          <code>{integration.auth_provider_project_id}</code>
        </dd>
        <dt>Owned by</dt>
        <dd>{managedByNeon ? 'Neon (managed for you)' : 'you (your own provider account)'}</dd>
        <dt>Transfer</dt>
        <dd>{integration.transfer_status === 'initiated' ? 'started: waiting for the confirmation in the provider' : integration.transfer_status === 'finished' ? 'finished' : 'none'}</dd>
        <dt>Database</dt>
        <dd>
          <code>{integration.db_name}</code>, schema <code>neon_auth</code>
        </dd>
        <dt>Enabled</dt>
        <dd>
          <When iso={integration.created_at} />
        </dd>
      </dl>
      <Secret name="JWKS URL" value={integration.jwks_url} />
      {integration.base_url && <Secret name="Auth base URL" value={integration.base_url} />}
      {integration.webhook_url && <Secret name="Webhook URL" value={integration.webhook_url} />}
      {admin && projectLevel && (
        <div class="actions">
          {/* Better Auth has no SDK keys (an app talks to its base URL); the API refuses them for it. */}
          {managedByNeon && integration.auth_provider !== 'better_auth' && (
            <button type="button" class="secondary" onClick={generateKeys} disabled={busy !== null}>
              {busy === 'keys' ? 'Generating…' : 'Generate new SDK keys'}
            </button>
          )}
          {managedByNeon && integration.auth_provider === 'stack' && (
            <button type="button" class="secondary" onClick={transfer} disabled={busy !== null}>
              {busy === 'transfer' ? 'Starting…' : 'Transfer ownership'}
            </button>
          )}
        </div>
      )}
      {admin && !projectLevel && <p class="hint">SDK keys and ownership transfer act on the project's default branch: open it to use them.</p>}
      {transferUrl && (
        <p class="notice" role="status">
          Transfer started.{' '}
          <a href={transferUrl} target="_blank" rel="noopener noreferrer">
            Open the provider's confirmation page
          </a>{' '}
          and confirm there, signed in to your provider account.
        </p>
      )}
      <FormProblem problem={action.problem} />
      {keys && <KeysOnce created={keys} onDismiss={() => setKeys(null)} />}
    </section>
  );
}
