import { useEffect, useState } from 'preact/hooks';
import type { Branch, ProjectListItem } from '../../openapi/client/neon-api';
import { api, call, problemOf, type Problem } from '../api';
import type { Identity } from '../identity';
import { authPageHash, type Route } from '../routes';
import { FormProblem, Select } from '../ui/form';

/** Organization, project and branch: choosing a branch opens its Auth page (the ids go into the URL's fragment). */
export function Picker({ identity, route }: { identity: Identity; route: Route }) {
  const [orgId, setOrgId] = useState(identity.orgs[0]?.id ?? '');
  const [projects, setProjects] = useState<ProjectListItem[] | null>(null);
  const [branches, setBranches] = useState<Branch[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const projectId = route.projectId ?? '';

  useEffect(() => {
    if (!orgId) return;
    setProjects(null);
    call(api.project.listProjects(identity.kind === 'personal' ? { org_id: orgId, limit: 400 } : { limit: 400 }))
      .then((r) => setProjects(identity.projectId ? r.projects.filter((p) => p.id === identity.projectId) : r.projects))
      .catch((err) => setProblem(problemOf(err)));
  }, [orgId]);

  useEffect(() => {
    setBranches(null);
    if (!projectId) return;
    call(api.branch.listProjectBranches({ projectId }))
      .then((r) => setBranches(r.branches))
      .catch((err) => setProblem(problemOf(err)));
  }, [projectId]);

  const openProject = (id: string) => {
    if (!id) {
      window.location.hash = '#/';
      return;
    }
    // The project's default branch first; another can be picked next.
    call(api.branch.listProjectBranches({ projectId: id }))
      .then((r) => {
        const branch = r.branches.find((b) => b.default) ?? r.branches[0];
        window.location.hash = branch ? authPageHash(id, branch.id) : '#/';
      })
      .catch((err) => setProblem(problemOf(err)));
  };

  return (
    <nav class="card picker" aria-label="Organization, project and branch">
      {identity.orgs.length > 1 && (
        <Select label="Organization" value={orgId} onValue={setOrgId} options={identity.orgs.map((o) => ({ value: o.id, label: `${o.name} (${o.role})` }))} />
      )}
      <Select
        label="Project"
        value={projectId}
        disabled={projects === null}
        onValue={openProject}
        options={[{ value: '', label: projects === null ? 'Loading projects…' : projects.length === 0 ? 'No projects' : 'Choose a project' }, ...(projects ?? []).map((p) => ({ value: p.id, label: `${p.name} (${p.id})` }))]}
      />
      <Select
        label="Branch"
        value={route.branchId ?? ''}
        disabled={!projectId || branches === null}
        onValue={(id) => (window.location.hash = id ? authPageHash(projectId, id) : '#/')}
        options={[{ value: '', label: projectId ? 'Choose a branch' : '—' }, ...(branches ?? []).map((b) => ({ value: b.id, label: `${b.name}${b.default ? ' (default)' : ''}` }))]}
      />
      <FormProblem problem={problem} />
    </nav>
  );
}
