// The reconciler's schedule (NEON_AUTH_RECONCILE_INTERVAL_SECONDS): integrations are reconciled without being asked,
// and concurrent schedulers (replicas) run one integration once.
import type { NeonAuthIntegrationEntity } from '../../src/neon-auth/integrations/integration.entity.js';
import { SyncReconcilerScheduler } from '../../src/sync/reconciler/reconciler.scheduler.js';
import { SyncReconcilerService } from '../../src/sync/reconciler/reconciler.service.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enabledProject, insertProviderUsers, syncState } from './reconciler-helpers.js';

const INTERVAL_SECONDS = 4;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('scheduled reconciliation', () => {
  let t: TestApp;
  let reconciler: SyncReconcilerService;
  let scheduler: SyncReconcilerScheduler;
  /** Integration ids of every run that started, from any caller (the timer included). */
  const runs: string[] = [];
  beforeAll(async () => {
    t = await startTestApp({ NEON_AUTH_RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS) });
    reconciler = t.app.get(SyncReconcilerService);
    scheduler = t.app.get(SyncReconcilerScheduler);
    const target = reconciler as unknown as { run(i: NeonAuthIntegrationEntity): Promise<unknown> };
    const original = target.run;
    target.run = function (i: NeonAuthIntegrationEntity) {
      runs.push(i.id);
      return original.call(this, i);
    };
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reconciles an integration on its own, within the interval', async () => {
    const f = await enabledProject(t, 'scheduled');
    await insertProviderUsers(t, f.auth.auth_provider_project_id, 25);
    expect(await waitFor(async () => (await syncState(f.uri)).live.size === 25, INTERVAL_SECONDS * 2_000)).toBe(true);
    const recorded = await reconciler.lastReconciliation(f.integration.id);
    expect(recorded?.lastReconciledAt).toBeInstanceOf(Date);
    expect(recorded?.lastResult).toMatchObject({ inserted: 25, complete: true });
  });

  it('two schedulers ticking at once (replicas) reconcile a due integration once', async () => {
    const f = await enabledProject(t, 'replicas');
    await insertProviderUsers(t, f.auth.auth_provider_project_id, 500);
    const ran = await Promise.all([scheduler.runDue(), scheduler.runDue(), scheduler.runDue()]);
    // The timer may have taken it first; either way it ran exactly once.
    expect(ran.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
    await waitFor(async () => runs.includes(f.integration.id), 5_000);
    expect(runs.filter((id) => id === f.integration.id)).toHaveLength(1);
    expect((await syncState(f.uri)).live.size).toBe(500);
    // Not due again until the interval has passed.
    await scheduler.runDue();
    expect(runs.filter((id) => id === f.integration.id)).toHaveLength(1);
  });
});
