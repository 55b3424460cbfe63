import { Api } from '../../openapi/client/neon-api.js';

/** The TypeScript client generated from the committed spec (openapi/client), authenticated with `apiKey`. */
export function apiClient(baseUrl: string, apiKey?: string): Api<string> {
  const api = new Api<string>({
    baseUrl,
    securityWorker: (key) => (key ? { headers: { Authorization: `Bearer ${key}` } } : {}),
  });
  if (apiKey) api.setSecurityData(apiKey);
  return api;
}
