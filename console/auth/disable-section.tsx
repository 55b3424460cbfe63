import { useState } from 'preact/hooks';
import type { NeonAuthIntegration } from '../../openapi/client/neon-api';
import { api, call } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { Checkbox, FormProblem } from '../ui/form';
import { useAction } from '../ui/use-action';
import { Confirm } from '../ui/widgets';

/**
 * Disable Neon Auth on the branch, keeping or dropping its data; the confirmation names exactly what goes.
 * `onBusy(true)` is called before the request (the page stops re-reading what is about to go), `onBusy(false)` if it
 * was refused.
 */
export function DisableSection({ ctx, integration, onBusy, onDisabled }: { ctx: BranchContext; integration: NeonAuthIntegration; onBusy(busy: boolean): void; onDisabled(): void }) {
  const [deleteData, setDeleteData] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const problem = action.problem;
  const busy = action.busy !== null;
  const disable = async () => {
    onBusy(true);
    const done = await action.run('disable', () => call(api.auth.disableNeonAuth({ projectId: ctx.projectId, branchId: ctx.branchId }, { delete_data: deleteData })));
    if (done) onDisabled();
    else {
      onBusy(false);
      setConfirming(false);
    }
  };
  return (
    <section class="card danger-zone" aria-labelledby="disable-title">
      <h2 id="disable-title">Disable Neon Auth</h2>
      <p>Disconnects the auth provider from this branch. Sign-ins stop working for apps that use it.</p>
      <Checkbox label={`Also delete the data: drop the neon_auth schema of database ${integration.db_name}`} checked={deleteData} onChecked={setDeleteData} />
      <div class="actions">
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Disable Neon Auth…
        </button>
      </div>
      <FormProblem problem={problem} />
      {confirming && (
        <Confirm title="Disable Neon Auth on this branch?" confirmLabel={deleteData ? 'Disable and delete the data' : 'Disable'} danger busy={busy} onConfirm={disable} onCancel={() => setConfirming(false)}>
          {deleteData ? (
            <p>
              This drops the schema <code>neon_auth</code> of database <code>{integration.db_name}</code> on branch <strong>{ctx.branch.name}</strong>, with
              the table <code>users_sync</code> and every row in it
              {integration.auth_provider === 'better_auth' ? ", and Better Auth's own tables there: its users, sessions, accounts and settings" : ', and every other table in that schema'}. It
              cannot be undone.
            </p>
          ) : (
            <p>
              The schema <code>neon_auth</code> of database <code>{integration.db_name}</code> and its rows stay; enabling Neon Auth again reuses them.
            </p>
          )}
        </Confirm>
      )}
    </section>
  );
}
