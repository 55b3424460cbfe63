import { useEffect, useRef, useState } from 'preact/hooks';
import { problemOf, setRequestKey, whenUnauthorized, type Problem } from './api';
import { loadIdentity, roleAllows, type Identity } from './identity';
import { AuthPage } from './pages/auth-page';
import { Picker } from './pages/picker';
import { SignIn } from './pages/sign-in';
import { useRoute } from './routes';
import { forgetApiKey, readApiKey } from './session';
import { FormProblem } from './ui/form';
import { Loading } from './ui/widgets';

export function App() {
  const [identity, setIdentity] = useState<Identity | null>(null);
  /** Why the last session ended, when the API ended it (the key was revoked or expired meanwhile). */
  const [ended, setEnded] = useState<string | null>(null);
  // A key kept from earlier in this tab is checked again; until then the page says so.
  const [restoring, setRestoring] = useState(() => readApiKey() !== null);
  /** The kept key could not be checked for another reason than a refusal (the server restarting, the network). */
  const [unreachable, setUnreachable] = useState<Problem | null>(null);
  const signedIn = useRef(false);
  signedIn.current = identity !== null;
  const route = useRoute();

  const restore = () => {
    setUnreachable(null);
    setRestoring(true);
    loadIdentity()
      .then(setIdentity)
      .catch((err) => {
        const problem = problemOf(err);
        // Only a refusal ends the session; anything else keeps the key and offers to try again.
        if (problem.status === 401) {
          forgetApiKey();
          setEnded(`You were signed out: the API no longer accepts the key this tab kept (${problem.message}).`);
        } else setUnreachable(problem);
      })
      .finally(() => setRestoring(false));
  };
  useEffect(() => {
    if (restoring) restore();
  }, []);

  const signOut = () => {
    forgetApiKey();
    setRequestKey(null);
    setIdentity(null);
  };

  // A key the API stops accepting mid-session (revoked, its account removed) signs the tab out, saying why.
  useEffect(() => {
    whenUnauthorized((problem) => {
      // Before sign-in completes (checking a key, or the kept one) the refusal is shown where it happened.
      if (!signedIn.current) return;
      signOut();
      setEnded(`You were signed out: the API no longer accepts this key (${problem.message}).`);
    });
    return () => whenUnauthorized(null);
  }, []);

  if (restoring) return <Loading what="your session" />;
  if (unreachable) {
    return (
      <main class="sign-in">
        <h1>Neon Auth console</h1>
        <p>Your session could not be checked:</p>
        <FormProblem problem={unreachable} />
        <div class="actions">
          <button type="button" onClick={restore}>
            Try again
          </button>
          <button type="button" class="secondary" onClick={() => (setUnreachable(null), signOut())}>
            Sign out
          </button>
        </div>
      </main>
    );
  }
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
              <p>This key belongs to no organization: the projects shared with you are listed above.</p>
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
