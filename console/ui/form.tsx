// Form pieces: every control has a visible label (its accessible name), and the API's message for a field is shown
// under it and tied to it with aria-describedby / aria-invalid.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { shownByFields, type Problem } from '../api';

interface FieldProps {
  label: string;
  type?: 'text' | 'email' | 'password' | 'url' | 'search' | 'number';
  placeholder?: string;
  autoComplete?: string;
  required?: boolean;
  spellcheck?: boolean;
  disabled?: boolean;
  min?: number;
  max?: number;
  value: string;
  onValue(value: string): void;
  /** The API's message about this field, if any. */
  error?: string;
  hint?: ComponentChildren;
}

export function Field({ label, value, onValue, error, hint, type = 'text', ...input }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} type={type as 'text'} value={value} onInput={(e) => onValue(e.currentTarget.value)} aria-invalid={error ? 'true' : undefined} aria-describedby={described} {...input} />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

interface CheckboxProps {
  label: string;
  checked: boolean;
  onChecked(checked: boolean): void;
  disabled?: boolean;
  error?: string;
}

export function Checkbox({ label, checked, onChecked, disabled, error }: CheckboxProps) {
  const id = useId();
  return (
    <div class="field field--check">
      <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChecked(e.currentTarget.checked)} aria-describedby={error ? `${id}-error` : undefined} />
      <label for={id}>{label}</label>
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

interface SelectProps {
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onValue(value: string): void;
  disabled?: boolean;
  error?: string;
}

export function Select({ label, value, options, onValue, disabled, error }: SelectProps) {
  const id = useId();
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label for={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onValue(e.currentTarget.value)} aria-describedby={error ? `${id}-error` : undefined}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * A problem of a form as a whole: the API's message, unless every part of it is already shown next to a field of this
 * form (`shownFields`).
 */
export function FormProblem({ problem, shownFields = [] }: { problem: Problem | null; shownFields?: string[] }) {
  if (!problem || shownByFields(problem, shownFields)) return null;
  return (
    <p class="problem" role="alert">
      {problem.message}
      {problem.requestId && <span class="request-id"> (request {problem.requestId})</span>}
    </p>
  );
}
