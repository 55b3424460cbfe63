import { useEffect, useState } from 'preact/hooks';
import type { Branch, NeonAuthCreateIntegrationResponse, NeonAuthIntegration, Project } from '../../openapi/client/neon-api';
import { api, call, problemOf, type Problem } from '../api';
import { DisableSection } from '../auth/disable-section';
import { EnableSection, KeysOnce } from '../auth/enable-section';
import { IntegrationStatus } from '../auth/integration-status';
import { DomainsSection } from '../auth/domains-section';
import { SettingsSection } from '../auth/settings-section';
import { SyncSection } from '../auth/sync-section';
import { UsersSection } from '../auth/users-section';
import { roleAllows, type Identity, type Role } from '../identity';
import { FormProblem } from '../ui/form';
import { Loading } from '../ui/widgets';

/** What the Auth page of one branch shares with its sections. */
export interface BranchContext {
  projectId: string;
  branchId: string;
  project: Project;
  branch: Branch;
  role: Role;
}

/**
 * The Auth page of a branch: Neon Auth's state on it and everything one does with it. Admin actions are shown to
 * admins only; the API refuses them to members anyway (the page never decides what is allowed, it only hides what
 * would be refused).
 */
export function AuthPage({ identity, projectId, branchId }: { identity: Identity; projectId: string; branchId: string }) {
  const [ctx, setCtx] = useState<BranchContext | null>(null);
  /** undefined: loading; null: Neon Auth is not enabled on the branch. */
  const [integration, setIntegration] = useState<NeonAuthIntegration | null | undefined>(undefined);
  const [created, setCreated] = useState<NeonAuthCreateIntegrationResponse | null>(null);
  /** The project or branch could not be read: nothing of the page can be shown. */
  const [problem, setProblem] = useState<Problem | null>(null);
  /** Neon Auth's state could not be read (the page says so where it would be, and keeps what it has). */
  const [integrationProblem, setIntegrationProblem] = useState<Problem | null>(null);
  /** A disable is under way: the sections stop re-reading what it removes. */
  const [disabling, setDisabling] = useState(false);

  const loadIntegration = () =>
    call(api.auth.getNeonAuth({ projectId, branchId }))
      .then((found) => {
        setIntegration(found);
        setIntegrationProblem(null);
      })
      .catch((err) => {
        const p = problemOf(err);
        if (p.code === 'NEON_AUTH_NOT_ENABLED') {
          setIntegration(null);
          setIntegrationProblem(null);
        } else setIntegrationProblem(p);
      });

  useEffect(() => {
    Promise.all([call(api.project.getProject({ projectId })), call(api.branch.getProjectBranch({ projectId, branchId }))])
      .then(([{ project }, { branch }]) => {
        // A project of one of the key's organizations: the role there; a project shared with the caller: a member's rights.
        const role = identity.orgs.find((o) => o.id === project.org_id)?.role ?? 'member';
        setCtx({ projectId, branchId, project, branch, role });
      })
      .catch((err) => setProblem(problemOf(err)));
    void loadIntegration();
  }, []);

  if (problem) return <FormProblem problem={problem} />;
  if (!ctx || (integration === undefined && !integrationProblem)) return <Loading what="the Auth page" />;
  const admin = ctx.role === 'admin';

  return (
    <div class="auth-page">
      <h1>
        Auth <span class="crumb">{ctx.project.name} / {ctx.branch.name}</span>
      </h1>
      <p class="role-note">
        Your role in this project: <strong>{ctx.role}</strong>. {roleAllows(ctx.role)}
      </p>
      {/* The keys of a Quick Start are shown once: whatever else the page can or cannot show. */}
      {created && <KeysOnce created={created} onDismiss={() => setCreated(null)} />}
      {integrationProblem && (
        <section class="card" aria-labelledby="integration-problem-title">
          <h2 id="integration-problem-title">Neon Auth's state could not be read</h2>
          <FormProblem problem={integrationProblem} />
          <div class="actions">
            <button type="button" class="secondary" onClick={() => void loadIntegration()}>
              Try again
            </button>
          </div>
        </section>
      )}
      {/* Enabled just now but not read back: never offer to enable again (the keys above are what matters). */}
      {integration === undefined || (integration === null && created) ? null : integration === null ? (
        <EnableSection
          ctx={ctx}
          admin={admin}
          onEnabled={(response) => {
            setCreated(response);
            void loadIntegration();
          }}
        />
      ) : (
        <>
          <IntegrationStatus ctx={ctx} integration={integration} admin={admin} onChanged={loadIntegration} />
          <UsersSection ctx={ctx} live={!disabling} />
          <SyncSection ctx={ctx} admin={admin} live={!disabling} />
          <DomainsSection ctx={ctx} integration={integration} admin={admin} />
          <SettingsSection ctx={ctx} integration={integration} admin={admin} />
          {admin && (
            <DisableSection
              ctx={ctx}
              integration={integration}
              onBusy={(busy) => {
                setDisabling(busy);
                // Refused or not answered: what is the state now? (It may have gone through, or been disabled elsewhere.)
                if (!busy) void loadIntegration();
              }}
              onDisabled={() => {
                setDisabling(false);
                setCreated(null);
                setIntegration(null);
              }}
            />
          )}
        </>
      )}
    </div>
  );
}
