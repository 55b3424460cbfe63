import { useState } from 'preact/hooks';
import type { NeonAuthSyncDeadLetter, NeonAuthSyncReconcileResponse, NeonAuthSyncStatus } from '../../openapi/client/neon-api';
import { api, call, problemOf, type Problem } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { FormProblem } from '../ui/form';
import { useLatest, useRefresh } from '../ui/latest';
import { useAction } from '../ui/use-action';
import { When } from '../ui/widgets';

const REFRESH_MS = 5000;
/** Samples the chart keeps (10 minutes at REFRESH_MS). */
const SAMPLES = 120;

interface Sample {
  at: number;
  p50: number | null;
  p99: number | null;
}

/**
 * How users_sync is kept: the lag (p50/p99 of the last hour, as the API reports it, charted over the samples this page
 * has taken), the queue, dead letters with their replay, the last reconciliation and a button to run one now.
 */
/** `live`: re-read every REFRESH_MS (off while Neon Auth is being disabled). */
export function SyncSection({ ctx, admin, live }: { ctx: BranchContext; admin: boolean; live: boolean }) {
  const [status, setStatus] = useState<NeonAuthSyncStatus | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [dead, setDead] = useState<NeonAuthSyncDeadLetter[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const action = useAction();
  const [result, setResult] = useState<string | null>(null);
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };

  const reads = useLatest(live);
  const load = async () => {
    if (reads.paused) return;
    const seq = reads.start();
    try {
      const s = await call(api.extensions.getNeonAuthSyncStatus(ids));
      if (!reads.current(seq)) return;
      const letters = s.dead_letters > 0 ? (await call(api.extensions.listNeonAuthSyncDeadLetters({ ...ids, limit: 20 }))).dead_letters : [];
      if (!reads.take(seq)) return; // a later read has been shown already
      setStatus(s);
      setSamples((prev) => [...prev, { at: Date.now(), p50: s.lag_ms.p50, p99: s.lag_ms.p99 }].slice(-SAMPLES));
      setDead(letters);
      setProblem(null);
    } catch (err) {
      if (reads.take(seq)) setProblem(problemOf(err));
    }
  };
  useRefresh(load, REFRESH_MS, live, []);

  const reconcile = () =>
    action.run('reconcile', async () => {
      setResult(null);
      setResult(describeReconcile(await call(api.extensions.startNeonAuthSync(ids))));
      void load();
    });
  const replay = () =>
    action.run('replay', async () => {
      setResult(null);
      const { replayed } = await call(api.extensions.replayNeonAuthSyncDeadLetters(ids, {}));
      setResult(`${replayed} dead letter${replayed === 1 ? '' : 's'} put back in the queue.`);
      void load();
    });
  const busy = action.busy;

  return (
    <section class="card" aria-labelledby="sync-title">
      <h2 id="sync-title">Sync</h2>
      <FormProblem problem={problem} />
      <FormProblem problem={action.problem} />
      {status && (
        <>
          <dl class="facts">
            <dt>How</dt>
            <dd>{status.delivery === 'in_transaction' ? 'in the same transaction as every user change (no lag)' : "the provider's webhooks, through the sync engine"}</dd>
            <dt>Lag (last hour)</dt>
            <dd>{status.lag_ms.p50 === null ? 'no events applied in the last hour' : `p50 ${fmtMs(status.lag_ms.p50)}, p99 ${fmtMs(status.lag_ms.p99)}`}</dd>
            <dt>Queued</dt>
            <dd>{status.queued}</dd>
            <dt>Dead letters</dt>
            <dd>{status.dead_letters}</dd>
            <dt>Last applied</dt>
            <dd>
              <When iso={status.last_applied_at} />
            </dd>
            <dt>Last reconciled</dt>
            <dd>
              <When iso={status.last_reconciled_at} />
            </dd>
          </dl>
          {status.apply_error && <p class="problem">Applying fails: {status.apply_error}</p>}
          {status.reconcile_error && <p class="problem">The last reconciliation failed: {status.reconcile_error}</p>}
          {status.delivery === 'webhooks' && <LagChart samples={samples} />}
        </>
      )}
      {dead.length > 0 && (
        <div class="table-wrap">
          <table aria-label="Dead letters">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">User</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {dead.map((d) => (
                <tr key={d.id}>
                  <td>{d.event_type}</td>
                  <td>
                    <code>{d.user_id ?? '—'}</code>
                  </td>
                  <td>{d.attempts}</td>
                  <td>{d.last_error ?? '—'}</td>
                  <td>
                    <When iso={d.received_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && (
        <div class="actions">
          <button type="button" class="secondary" onClick={reconcile} disabled={busy !== null}>
            {busy === 'reconcile' ? 'Reconciling…' : 'Reconcile now'}
          </button>
          {status && status.dead_letters > 0 && (
            <button type="button" class="secondary" onClick={replay} disabled={busy !== null}>
              {busy === 'replay' ? 'Replaying…' : 'Replay dead letters'}
            </button>
          )}
        </div>
      )}
      {result && (
        <p class="notice" role="status">
          {result}
        </p>
      )}
    </section>
  );
}

function fmtMs(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function describeReconcile(r: NeonAuthSyncReconcileResponse): string {
  if (!r.complete) return `Reconciliation incomplete after ${r.ms} ms: the provider's listing did not finish, nothing was deleted.`;
  return `Reconciled in ${r.ms} ms: ${r.inserted} added, ${r.updated} updated, ${r.deleted} marked deleted, ${r.unchanged} unchanged.`;
}

/** p50 and p99 over the samples this page took, as an SVG (no script-generated styles: the CSP allows none). */
function LagChart({ samples }: { samples: Sample[] }) {
  const W = 300;
  const H = 80;
  const points = samples.filter((s) => s.p99 !== null);
  if (points.length < 2) return <p class="hint">The lag chart fills in as this page samples the status (every {REFRESH_MS / 1000} s).</p>;
  const max = Math.max(...points.map((s) => s.p99 ?? 0), 1);
  const x = (i: number) => (i / (points.length - 1)) * W;
  const y = (v: number | null) => H - ((v ?? 0) / max) * (H - 4) - 2;
  const line = (key: 'p50' | 'p99') => points.map((s, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
  const last = points[points.length - 1];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Sync lag, sampled by this page: latest p50 ${fmtMs(last.p50)}, p99 ${fmtMs(last.p99)}; highest p99 ${fmtMs(max)}`}>
        <path d={line('p99')} class="p99" />
        <path d={line('p50')} class="p50" />
      </svg>
      <figcaption>
        Lag over the last {points.length} samples: <span class="p99-key">p99</span> and <span class="p50-key">p50</span>, up to {fmtMs(max)}.
      </figcaption>
    </figure>
  );
}
