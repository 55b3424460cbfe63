import { useState } from 'preact/hooks';
import { problemOf, type Problem } from '../api';

/**
 * What a button or form does against the API: which action is running (one at a time), the API's problem with the
 * last one, and a note when it went through.
 */
export interface Action {
  /** The name of the action running now, or null. */
  busy: string | null;
  problem: Problem | null;
  done: string | null;
  /** Runs `what` as `name`; true when it went through (then `note`, if any, is shown). */
  run(name: string, what: () => Promise<unknown>, note?: string): Promise<boolean>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (name: string, what: () => Promise<unknown>, note?: string) => {
    setBusy(name);
    setProblem(null);
    setDone(null);
    try {
      await what();
      setDone(note ?? null);
      return true;
    } catch (err) {
      setProblem(problemOf(err));
      return false;
    } finally {
      setBusy(null);
    }
  };
  return { busy, problem, done, run };
}

/** An action's note after it went through. */
export function Done({ note }: { note: string | null }) {
  return note ? (
    <p class="notice" role="status">
      {note}
    </p>
  ) : null;
}
