import fs from 'node:fs';
import path from 'node:path';
import { AUTH_PROVIDERS, OAUTH_PROVIDERS, PROVIDER_NAMES, WEBHOOK_EVENTS } from '../../console/auth/choices.js';

/**
 * The console's lists are the committed spec's enums (the generated client has them as types only): a value the API
 * gains, loses or renames must show in the console's list too, so it never offers what the API refuses.
 */
const schemas = JSON.parse(fs.readFileSync(path.resolve('openapi/openapi.json'), 'utf8')).components.schemas as Record<string, { enum?: string[] }>;
const sorted = (values: readonly string[]) => [...values].sort();

describe("the console's lists are the API's enums", () => {
  it('auth providers', () => {
    expect(sorted(AUTH_PROVIDERS.map((p) => p.value))).toEqual(sorted(schemas.NeonAuthSupportedAuthProvider.enum!));
    expect(sorted(Object.keys(PROVIDER_NAMES))).toEqual(sorted(schemas.NeonAuthSupportedAuthProvider.enum!));
  });

  it('OAuth providers', () => {
    expect(sorted(OAUTH_PROVIDERS.map((p) => p.value))).toEqual(sorted(schemas.NeonAuthOauthProviderId.enum!));
  });

  it('webhook events', () => {
    expect(sorted(WEBHOOK_EVENTS)).toEqual(sorted(schemas.NeonAuthWebhookEvent.enum!));
  });
});
