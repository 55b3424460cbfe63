// The values the console offers in its lists, with their labels. They are the enums of the committed OpenAPI spec
// (the generated client has them as types only); test/unit/console-choices.spec.ts fails when the spec gains, loses or
// renames one, so a list here never offers a value the API refuses or hides one it accepts.
import type { NeonAuthOauthProvider, NeonAuthSupportedAuthProvider, NeonAuthWebhookEvent } from '../../openapi/client/neon-api.js';

export const AUTH_PROVIDERS: readonly { value: NeonAuthSupportedAuthProvider; label: string }[] = [
  { value: 'stack', label: 'Stack Auth (the embedded Stack-Auth-compatible server, or your own)' },
  { value: 'better_auth', label: 'Better Auth (hosted for this branch)' },
  { value: 'mock', label: 'Mock (for tests)' },
];

export const PROVIDER_NAMES: Readonly<Record<NeonAuthSupportedAuthProvider, string>> = { stack: 'Stack Auth', better_auth: 'Better Auth', mock: 'Mock' };

export const OAUTH_PROVIDERS: readonly { value: NeonAuthOauthProvider['id']; label: string }[] = [
  { value: 'google', label: 'Google' },
  { value: 'github', label: 'GitHub' },
  { value: 'microsoft', label: 'Microsoft' },
  { value: 'vercel', label: 'Vercel' },
];

export const WEBHOOK_EVENTS: readonly NeonAuthWebhookEvent[] = [
  'user.before_create',
  'user.created',
  'send.otp',
  'send.magic_link',
  'organization.invitation.created',
  'organization.invitation.accepted',
  'phone_number.verified',
];
