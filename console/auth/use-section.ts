import { useEffect, useState } from 'preact/hooks';
import { problemOf, type Problem } from '../api';

/** A settings section as the API reports it: its current value, or why the branch's provider has no such section. */
export interface SectionState<T> {
  data: T | null;
  /** The API's refusal when the provider has no such section (400 AUTH_PROVIDER_NOT_SUPPORTED). */
  unsupported: string | null;
  problem: Problem | null;
  reload(): Promise<void>;
  set(data: T): void;
}

export function useSection<T>(load: () => Promise<T>): SectionState<T> {
  const [data, setData] = useState<T | null>(null);
  const [unsupported, setUnsupported] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const reload = async () => {
    try {
      setData(await load());
      setProblem(null);
    } catch (err) {
      const p = problemOf(err);
      if (p.code === 'AUTH_PROVIDER_NOT_SUPPORTED') setUnsupported(p.message);
      else setProblem(p);
    }
  };
  useEffect(() => void reload(), []);
  return { data, unsupported, problem, reload, set: setData };
}

/** A number field's text for the API: a number when it reads as one, else the text itself (the API says what is wrong). */
export function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}
