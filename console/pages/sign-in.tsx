import { useState } from 'preact/hooks';
import { setRequestKey, type Problem } from '../api';
import { loadIdentity, type Identity } from '../identity';
import { storeApiKey } from '../session';
import { Field, FormProblem } from '../ui/form';
import { useAction } from '../ui/use-action';

/** Sign-in with an API key: checked with the API (GET /auth and the caller's organizations) before it is kept. */
export function SignIn({ ended, onSignedIn }: { ended?: string | null; onSignedIn(identity: Identity): void }) {
  const [key, setKey] = useState('');
  const action = useAction();
  const problem = action.problem;
  const busy = action.busy !== null;
  const submit = (e: Event) => {
    e.preventDefault();
    const trimmed = key.trim();
    void action.run('sign-in', async () => {
      // A key is printable ASCII without spaces; anything else was mis-pasted (and fetch could not even send it).
      if (!/^[\x21-\x7e]+$/.test(trimmed)) {
        throw { status: 401, code: 'INVALID_KEY', message: 'This is not an API key: a key has no spaces, line breaks or typographic characters. Paste it again.', fields: {} } satisfies Problem;
      }
      setRequestKey(trimmed);
      let identity: Identity;
      try {
        identity = await loadIdentity();
      } catch (err) {
        setRequestKey(null);
        throw err;
      }
      storeApiKey(trimmed);
      setKey('');
      onSignedIn(identity);
    });
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
