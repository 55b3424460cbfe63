import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger.js';
import { OutboundHttp } from '../../common/outbound-http.js';
import { SecretsService } from '../../common/secrets.js';
import { loadBetterAuthLibrary } from '../better-auth-library.js';
import type { OutgoingMessage } from '../better-auth-options.js';
import type { BranchAuthTenant } from '../better-auth-servers.js';
import { BetterAuthMailbox } from '../mailbox/mailbox.service.js';
import { sealedFieldContext, type EmailProviderConfig, type ProjectConfig } from '../project-config.js';
import { SmtpDeliveryError, SmtpSender, type SmtpServer, type SmtpTestResult } from './smtp-sender.js';

/** The `standard` e-mail provider as project_config stores it (password SEALED). */
export type StandardEmailProvider = Extract<EmailProviderConfig, { type: 'standard' }>;

/** The tenant fields a delivery needs (the mailbox's, and the branch for logs). */
export type EmailTenant = Pick<BranchAuthTenant, 'integrationId' | 'projectId' | 'branchId' | 'databaseName'>;

/** The code of Better Auth's answer when the branch's SMTP server did not take a message. */
export const EMAIL_DELIVERY_FAILED = 'EMAIL_DELIVERY_FAILED';

/**
 * The e-mail provider of the hosted Better Auth servers:
 * - `standard`: the branch's own SMTP server (SmtpSender: the outbound rule, TLS, timeouts);
 * - `shared`: the local mailbox (GET …/auth/mailbox), as is every `phone_otp` (a text message is not e-mail: with
 *   Neon it goes out through the `send.otp` webhook).
 *
 * When the SMTP server does not take a message, Better Auth is handed an APIError 502 BAD_GATEWAY, code
 * EMAIL_DELIVERY_FAILED, message "The e-mail could not be sent: <reason>" (the plain reason, without the server's reply
 * or any address it resolved to). Endpoints that await their sender answer it (magic link, send-verification-email);
 * those Better Auth runs through runInBackgroundOrAwait (e-mail OTP, password reset, sign-up verification,
 * invitations) log it and answer as if sent, which is Better Auth's own behaviour (it tells no one whether an address
 * exists). Either way the failure is logged here with the reason and the server's reply, never the password.
 */
@Injectable()
export class BetterAuthEmail {
  readonly smtp: SmtpSender;
  /** Opened passwords per stored provider object (a built server's config): opened, or found unusable, once. */
  private readonly opened = new WeakMap<StandardEmailProvider, string>();

  constructor(
    private readonly mailbox: BetterAuthMailbox,
    private readonly secrets: SecretsService,
    outbound: OutboundHttp,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.smtp = new SmtpSender(outbound);
  }

  /** Delivers a message of a branch's Better Auth server with the provider of the config it was built from. */
  async deliver(tenant: EmailTenant, config: Pick<ProjectConfig, 'emailProvider'>, message: OutgoingMessage): Promise<void> {
    const provider = config.emailProvider;
    if (provider.type !== 'standard' || message.kind === 'phone_otp') return this.mailbox.deliver(tenant, message);
    const server = this.serverOf(provider, tenant);
    try {
      await this.smtp.send(server, message);
    } catch (err) {
      const failure = err as SmtpDeliveryError;
      this.logger.warn(
        {
          branchId: tenant.branchId,
          database: tenant.databaseName,
          host: server.host,
          port: server.port,
          kind: message.kind,
          failure: failure.kind,
          code: failure.code,
          rule: failure.policyReason,
        },
        `better auth: the e-mail was not sent: ${failure.message}`,
      );
      const { APIError } = await loadBetterAuthLibrary();
      throw new APIError('BAD_GATEWAY', { code: EMAIL_DELIVERY_FAILED, message: `The e-mail could not be sent: ${failure.reason}` });
    }
  }

  /** Neon's send_test_email: a real conversation with the settings given (password in plain text). */
  test(server: SmtpServer, recipient: string): Promise<SmtpTestResult> {
    return this.smtp.test(server, recipient);
  }

  /** Neon's email_provider/test: the same with the saved settings (the sealed password opened first). */
  testSaved(provider: StandardEmailProvider, recipient: string): Promise<SmtpTestResult> {
    return this.smtp.test(this.serverOf(provider), recipient);
  }

  /**
   * The stored (sealed) password in plain text; '' when there is none or it does not open (wrong SECRETS_KEY, a
   * value written by hand, a ciphertext moved from another field): then it is logged, and the server is used without
   * a password (a server that wants one refuses the sender or the recipient, and that is what the caller hears).
   */
  openPassword(provider: StandardEmailProvider, where: Partial<EmailTenant> = {}): string {
    if (!provider.password) return '';
    try {
      return this.secrets.decrypt(provider.password, sealedFieldContext('email_provider.password', provider));
    } catch {
      this.logger.warn(
        { branchId: where.branchId, database: where.databaseName },
        'better auth: email_provider.password in neon_auth.project_config does not decrypt; the SMTP server is used without a password',
      );
      return '';
    }
  }

  private serverOf(provider: StandardEmailProvider, tenant?: EmailTenant): SmtpServer {
    let password = this.opened.get(provider);
    if (password === undefined) {
      password = this.openPassword(provider, tenant);
      this.opened.set(provider, password);
    }
    return {
      host: provider.host,
      port: provider.port,
      username: provider.username,
      password,
      senderEmail: provider.senderEmail,
      senderName: provider.senderName,
    };
  }
}
