import { useEffect, useState } from 'preact/hooks';
import { setRequestKey, whenUnauthorized } from './api';
import { loadIdentity, roleAllows, type Identity } from './identity';
import { AuthPage } from './pages/auth-page';
import { Picker } from './pages/picker';
import { SignIn } from './pages/sign-in';
import { useRoute } from './routes';
import { forgetApiKey, readApiKey } from './session';
import { Loading } from './ui/widgets';

export function App() {
  const [identity, setIdentity] = useState<Identity | null>(null);
  /** Why the last session ended, when the API ended it (the key was revoked or expired meanwhile). */
  const [ended, setEnded] = useState<string | null>(null);
  // A key kept from earlier in this tab is checked again; until then the page says so.
  const [restoring, setRestoring] = useState(() => readApiKey() !== null);
  const route = useRoute();

  useEffect(() => {
    if (!restoring) return;
    loadIdentity()
      .then(setIdentity)
      .catch(() => forgetApiKey())
      .finally(() => setRestoring(false));
  }, []);

  const signOut = () => {
    forgetApiKey();
    setRequestKey(null);
    setIdentity(null);
  };

  // A key the API stops accepting mid-session (revoked, its account removed) signs the tab out, saying why.
  useEffect(() => {
    whenUnauthorized((problem) => {
      if (!readApiKey()) return; // signing in: the sign-in form shows the refusal itself
      signOut();
      setEnded(`You were signed out: the API no longer accepts this key (${problem.message}).`);
    });
    return () => whenUnauthorized(null);
  }, []);

  if (restoring) return <Loading what="your session" />;
  if (!identity) return <SignIn ended={ended} onSignedIn={(who) => (setEnded(null), setIdentity(who))} />;

  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Neon Auth console
        </a>
        <div class="who">
          <span>
            Signed in with {identity.kind === 'personal' ? 'the personal key of ' : 'the '}
            <strong>{identity.label}</strong>
          </span>
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Picker identity={identity} route={route} />
        {route.projectId && route.branchId ? (
          <AuthPage key={`${route.projectId}/${route.branchId}`} identity={identity} projectId={route.projectId} branchId={route.branchId} />
        ) : (
          <section class="card">
            <h2>Your access</h2>
            {identity.orgs.length === 0 ? (
              <p>This key belongs to no organization yet.</p>
            ) : (
              <ul class="roles">
                {identity.orgs.map((o) => (
                  <li key={o.id}>
                    <strong>{o.name}</strong>: {o.role}. {roleAllows(o.role)}
                  </li>
                ))}
              </ul>
            )}
            <p>Pick a project and a branch to open its Auth page.</p>
          </section>
        )}
      </main>
    </>
  );
}
