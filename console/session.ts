// The API key lives in this tab's sessionStorage only: never localStorage (it would outlive the session), never a
// URL (it would reach history, logs and Referer headers), never a cookie (the API does not read one).

const KEY = 'neon-console.api-key';

export function readApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the key is kept in memory by the caller for this page only
  }
}

export function storeApiKey(key: string): void {
  try {
    sessionStorage.setItem(KEY, key);
  } catch {
    // storage disabled: signed in until the page is reloaded
  }
}

export function forgetApiKey(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
