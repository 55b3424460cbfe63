import { useState } from 'preact/hooks';
import { problemOf, setRequestKey, type Problem } from '../api';
import { loadIdentity, type Identity } from '../identity';
import { storeApiKey } from '../session';
import { Field, FormProblem } from '../ui/form';

/** Sign-in with an API key: checked with the API (GET /auth and the caller's organizations) before it is kept. */
export function SignIn({ ended, onSignedIn }: { ended?: string | null; onSignedIn(identity: Identity): void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    const trimmed = key.trim();
    // A key is printable ASCII without spaces; anything else was mis-pasted (and fetch could not even send it).
    if (!/^[\x21-\x7e]+$/.test(trimmed)) {
      setProblem({ status: 401, code: 'INVALID_KEY', message: 'This is not an API key: a key has no spaces, line breaks or typographic characters. Paste it again.', fields: {} });
      setBusy(false);
      return;
    }
    setRequestKey(trimmed);
    try {
      const identity = await loadIdentity();
      storeApiKey(trimmed);
      setKey('');
      onSignedIn(identity);
    } catch (err) {
      setRequestKey(null);
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  const keyError = problem && problem.status === 401 ? problem.message : undefined;
  return (
    <main class="sign-in">
      <h1>Neon Auth console</h1>
      {ended && (
        <p class="problem" role="alert">
          {ended}
        </p>
      )}
      <form noValidate onSubmit={submit} class="card" aria-label="Sign in">
        <Field
          label="API key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          onValue={setKey}
          error={keyError}
          hint="A personal, organization or project API key (napi_…), pasted alone. It is kept in this tab's session storage only (never local storage, a cookie or a URL) until you sign out or the browser session ends. If the browser offers to save it as a password, decline."
        />
        {!keyError && <FormProblem problem={problem} />}
        <div class="actions">
          <button type="submit" disabled={busy || key.trim() === ''}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
      <p class="hint">
        No key yet? The server prints its first admin key when it starts for the first time; see “Getting an API key” in the README.
      </p>
    </main>
  );
}
