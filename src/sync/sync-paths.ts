/** Where the raw-body parser is mounted (src/app.factory.ts): the svix signature covers the exact bytes. */
export const SYNC_WEBHOOK_PATH = '/webhooks/neon-auth';
