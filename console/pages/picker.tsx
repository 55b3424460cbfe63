import { useEffect, useState } from 'preact/hooks';
import type { Branch, ProjectListItem } from '../../openapi/client/neon-api';
import { api, call, problemOf, type Problem } from '../api';
import type { Identity } from '../identity';
import { authPageHash, type Route } from '../routes';
import { useLatest } from '../ui/latest';
import { Field, FormProblem } from '../ui/form';

/** Projects per read: the API's largest page. More than that are reached by searching. */
const PROJECTS_PAGE = 400;

/**
 * Project and branch, then "Open" (choosing does not navigate by itself). The projects are every project the key can
 * see, grouped by organization: its organizations' and those shared with the person (GET /projects without org_id);
 * a search asks the API, so a project among thousands is found too.
 */
export function Picker({ identity, route }: { identity: Identity; route: Route }) {
  const [search, setSearch] = useState('');
  const [appliedSearch, setAppliedSearch] = useState('');
  const [projects, setProjects] = useState<ProjectListItem[] | null>(null);
  const [more, setMore] = useState(false);
  const [projectId, setProjectId] = useState(route.projectId ?? '');
  const [branches, setBranches] = useState<Branch[] | null>(null);
  const [branchId, setBranchId] = useState(route.branchId ?? '');
  const [projectProblem, setProjectProblem] = useState<Problem | null>(null);
  const [branchProblem, setBranchProblem] = useState<Problem | null>(null);
  /** Bumped by "Try again": reads the projects and branches again. */
  const [attempt, setAttempt] = useState(0);
  const projectReads = useLatest();
  const branchReads = useLatest();

  useEffect(() => {
    const t = window.setTimeout(() => setAppliedSearch(search.trim()), 300);
    return () => window.clearTimeout(t);
  }, [search]);

  useEffect(() => {
    projectReads.reset();
    const n = projectReads.start();
    call(api.project.listProjects({ limit: PROJECTS_PAGE, ...(appliedSearch ? { search: appliedSearch } : {}) }))
      .then((r) => {
        if (!projectReads.take(n)) return;
        setProjects(r.projects);
        setMore(Boolean(r.pagination?.cursor) && r.projects.length === PROJECTS_PAGE);
        setProjectProblem(null);
      })
      .catch((err) => projectReads.take(n) && setProjectProblem(problemOf(err)));
  }, [appliedSearch, attempt]);

  useEffect(() => {
    branchReads.reset();
    setBranches(null);
    if (!projectId) return;
    const n = branchReads.start();
    call(api.branch.listProjectBranches({ projectId }))
      .then((r) => {
        if (!branchReads.take(n)) return;
        setBranches(r.branches);
        // Keep the branch of the page that is open; otherwise the project's default branch.
        setBranchId((current) => (r.branches.some((b) => b.id === current) ? current : (r.branches.find((b) => b.default) ?? r.branches[0])?.id ?? ''));
        setBranchProblem(null);
      })
      .catch((err) => branchReads.take(n) && setBranchProblem(problemOf(err)));
  }, [projectId, attempt]);

  // The page followed a link or the back button: the picker follows it.
  useEffect(() => {
    if (route.projectId) setProjectId(route.projectId);
    if (route.branchId) setBranchId(route.branchId);
  }, [route.projectId, route.branchId]);

  const open = () => {
    if (projectId && branchId) window.location.hash = authPageHash(projectId, branchId);
  };
  const chooseProject = (id: string) => {
    // The branches shown are the project's own or none: never the previous project's for a moment.
    setBranches(null);
    setProjectId(id);
  };

  const orgName = (p: ProjectListItem) => identity.orgs.find((o) => o.id === p.org_id)?.name;
  const groups = new Map<string, ProjectListItem[]>();
  for (const p of projects ?? []) {
    const label = orgName(p) ?? (identity.kind === 'personal' ? 'Shared with you' : (p.org_name ?? 'Projects'));
    groups.set(label, [...(groups.get(label) ?? []), p]);
  }
  // The open project stays choosable even when a search leaves it out.
  const listed = (projects ?? []).some((p) => p.id === projectId);

  return (
    // Not a form: Enter in the search field must not open a page; only the button does.
    <div class="card picker" role="group" aria-label="Project and branch">
      <Field label="Find a project" type="search" value={search} onValue={setSearch} placeholder="name or id" />
      <div class="field">
        <label for="picker-project">Project</label>
        <select id="picker-project" value={projectId} disabled={projects === null} onChange={(e) => chooseProject(e.currentTarget.value)}>
          <option value="">{projects === null ? 'Loading projects…' : projects.length === 0 ? (appliedSearch ? 'No project matches' : 'No projects') : 'Choose a project'}</option>
          {projectId && !listed && <option value={projectId}>{projectId}</option>}
          {[...groups].map(([label, list]) => (
            <optgroup key={label} label={label}>
              {list.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        {more && <p class="hint">Showing the first {PROJECTS_PAGE} projects: search to find the others.</p>}
      </div>
      <div class="field">
        <label for="picker-branch">Branch</label>
        <select id="picker-branch" value={branchId} disabled={!projectId || branches === null} onChange={(e) => setBranchId(e.currentTarget.value)}>
          {!projectId && <option value="">—</option>}
          {projectId && branches === null && <option value={branchId}>Loading branches…</option>}
          {(branches ?? []).map((b) => (
            <option key={b.id} value={b.id}>
              {b.name}
              {b.default ? ' (default)' : ''}
            </option>
          ))}
        </select>
      </div>
      <div class="actions picker-open">
        <button type="button" onClick={open} disabled={!projectId || !branchId || branches === null}>
          Open Auth page
        </button>
      </div>
      <FormProblem problem={projectProblem} />
      <FormProblem problem={branchProblem} />
      {(projectProblem || branchProblem) && (
        <div class="actions">
          <button type="button" class="secondary" onClick={() => setAttempt(attempt + 1)}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}
