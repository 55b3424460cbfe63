import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SecretsService } from '../../common/secrets.js';
import { Webhook } from './webhook-sender.js';
import { StackWebhookEndpointEntity } from '../entities/stack-webhook.entity.js';
import { KnownErrors } from '../http/known-errors.js';

/** Endpoints whose signer (with its decrypted secret) stays in memory. */
const SIGNER_CACHE_SIZE = 1_000;

/** A svix endpoint secret: `whsec_` and the base64 of 24 random bytes (what Svix issues). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Associated data binding an encrypted endpoint secret to its row (a ciphertext copied elsewhere fails). */
export function webhookSecretContext(endpointId: string): string {
  return `stack-auth webhook endpoint ${endpointId}`;
}

/** Why a webhook URL is refused, or undefined when it is acceptable: absolute http(s), no credentials. */
export function webhookUrlProblem(raw: string): string | undefined {
  if (raw.length > 2048) return 'must be at most 2048 characters long';
  if (/\s/.test(raw)) return 'must not contain whitespace';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

/** Webhook endpoints of provider projects; each has its own signing secret, encrypted at rest. */
@Injectable()
export class WebhookEndpointsService {
  /** Endpoint id -> its signer and the ciphertext it came from (oldest first, bounded). */
  private readonly signers = new Map<string, { ciphertext: string; signer: Webhook }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: SecretsService,
  ) {}

  /** Registers an endpoint; returns its `whsec_` secret (which the caller shows to the integration). */
  async register(projectId: string, url: string, description = ''): Promise<{ endpoint: StackWebhookEndpointEntity; secret: string }> {
    const problem = webhookUrlProblem(url);
    if (problem) throw KnownErrors.schemaError(`Request validation failed on POST /api/v1/integrations/neon/webhooks:\n  - body.url ${problem}`);
    const id = randomUUID();
    const secret = newWebhookSecret();
    const repo = this.db.getRepository(StackWebhookEndpointEntity);
    const endpoint = await repo.save(
      repo.create({ id, projectId, url, description, secretEncrypted: this.secrets.encrypt(secret, webhookSecretContext(id)), disabledAt: null }),
    );
    return { endpoint, secret };
  }

  /** The plaintext secret of an endpoint (for signing). */
  secretOf(endpointId: string, secretEncrypted: string): string {
    return this.secrets.decrypt(secretEncrypted, webhookSecretContext(endpointId));
  }

  /**
   * The svix signer of an endpoint's deliveries, its secret decrypted once per stored ciphertext (a rotated secret is
   * another ciphertext, so it is never served stale). Throws when the ciphertext does not open.
   */
  signerOf(endpointId: string, secretEncrypted: string): Webhook {
    const cached = this.signers.get(endpointId);
    if (cached?.ciphertext === secretEncrypted) return cached.signer;
    const signer = new Webhook(this.secretOf(endpointId, secretEncrypted));
    if (this.signers.size >= SIGNER_CACHE_SIZE) this.signers.delete(this.signers.keys().next().value!);
    this.signers.set(endpointId, { ciphertext: secretEncrypted, signer });
    return signer;
  }
}
