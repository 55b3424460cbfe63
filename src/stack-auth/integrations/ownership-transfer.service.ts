import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource, MoreThan } from 'typeorm';
import { SecretsService } from '../../common/secrets.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { StackProjectEntity } from '../entities/stack-project.entity.js';
import { StackOwnershipTransferEntity } from '../entities/stack-transfer.entity.js';
import { StackStatusError } from '../http/known-errors.js';
import { STACK_AUTH_PATH } from '../http/stack-http.js';
import { hashSecret, secureRandomString } from '../projects/stack-keys.js';
import { confirmFormPage, transferDonePage, transferErrorPage } from './transfer-page.js';
import { StackProjectsService } from '../projects/stack-projects.service.js';

/** A confirm link lives one hour, as Stack Auth's does. */
export const TRANSFER_CODE_TTL_MS = 60 * 60 * 1000;

/** Path of the confirm page (GET shows it, POST submits it), under PUBLIC_URL. */
export const TRANSFER_CONFIRM_PATH = `${STACK_AUTH_PATH}/integrations/neon/projects/transfer/confirm`;

/** The cookie that binds a page's nonce to the browser that opened it (double-submit, SameSite=Strict). */
export const TRANSFER_CSRF_COOKIE = 'stack_transfer_csrf';

/** Stack Auth's answer when a project cannot be transferred (Neon relies on its exact wording). */
export const NOT_TRANSFERABLE =
  "This project either doesn't exist or the current Neon client is not authorized to transfer it. Note that projects can only be transferred once.";

const CODE_PATTERN = /^[0-9a-hjkmnp-tv-z]{45}$/;
const CSRF_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** yup's e-mail pattern (what Stack Auth accepts), at most 254 characters. */
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

export interface TransferStatus {
  project_id: string;
  /** `not_started`: no live link; `pending`: a link was issued and has not expired; `finished`: transferred. */
  status: 'not_started' | 'pending' | 'finished';
  owner_email: string | null;
  finished_at_millis: number | null;
  message: string;
}

/** An HTML page to send: status, body, and optionally a cookie to set. */
export interface TransferPage {
  status: number;
  html: string;
  csrfCookie?: string;
}

/**
 * Transfer of a Neon-managed provider project to a provider account. Neon starts it with the project's
 * admin key and hands the returned link to a person; the link's page asks for the account's e-mail and
 * finishes the transfer in one transaction. A link's code is stored hashed, works once, and expires.
 */
@Injectable()
export class OwnershipTransferService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: SecretsService,
    private readonly projectsService: StackProjectsService,
  ) {}

  /** Issues a confirm link for a project Neon still owns. */
  async start(project: StackProjectEntity): Promise<{ confirmation_url: string; confirm_url: string; expires_at_millis: number }> {
    if (project.ownedBy !== 'neon') throw new StackStatusError(400, NOT_TRANSFERABLE);
    const code = secureRandomString();
    const expiresAt = new Date(Date.now() + TRANSFER_CODE_TTL_MS);
    const repo = this.db.getRepository(StackOwnershipTransferEntity);
    await repo.insert(repo.create({ projectId: project.id, codeHash: hashSecret(code), status: 'initiated', expiresAt, finishedAt: null, newOwnerEmail: null }));
    const url = `${this.config.publicUrl}${TRANSFER_CONFIRM_PATH}?code=${code}`;
    return { confirmation_url: url, confirm_url: url, expires_at_millis: expiresAt.getTime() };
  }

  async status(project: StackProjectEntity): Promise<TransferStatus> {
    if (project.ownedBy === 'user') {
      const done = await this.db.getRepository(StackOwnershipTransferEntity).findOne({ where: { projectId: project.id, status: 'finished' }, order: { finishedAt: 'DESC' } });
      return {
        project_id: project.id,
        status: 'finished',
        owner_email: project.ownerEmail,
        finished_at_millis: done?.finishedAt?.getTime() ?? null,
        message: 'The project was transferred; it belongs to its new owner.',
      };
    }
    const pending = await this.db.getRepository(StackOwnershipTransferEntity).exists({ where: { projectId: project.id, status: 'initiated', expiresAt: MoreThan(new Date()) } });
    return {
      project_id: project.id,
      status: pending ? 'pending' : 'not_started',
      owner_email: null,
      finished_at_millis: null,
      message: pending
        ? 'A transfer link was issued and has not been confirmed yet.'
        : 'Ready to transfer project; please use the POST method to initiate it.',
    };
  }

  /** The confirm page for a link (GET). `csrfCookie` is the browser's cookie, if it has one. */
  async confirmPage(code: string | undefined, csrfCookie: string | undefined): Promise<TransferPage> {
    const found = await this.findLive(code);
    if ('page' in found) return found.page;
    const csrf = csrfCookie !== undefined && CSRF_PATTERN.test(csrfCookie) ? csrfCookie : randomBytes(32).toString('base64url');
    return {
      status: 200,
      html: confirmFormPage({
        projectName: found.project.displayName,
        projectDescription: found.project.description,
        code: code!,
        nonce: this.nonce(code!, csrf),
        expiresAt: found.transfer.expiresAt,
      }),
      csrfCookie: csrf === csrfCookie ? undefined : csrf,
    };
  }

  /** The form's submission (POST): checks the nonce against the cookie, then transfers in one transaction. */
  async confirm(form: { code: string; nonce: string; email: string }, csrfCookie: string | undefined): Promise<TransferPage> {
    const found = await this.findLive(form.code);
    if ('page' in found) return found.page;
    if (csrfCookie === undefined || !CSRF_PATTERN.test(csrfCookie) || !this.nonceMatches(form.code, csrfCookie, form.nonce)) {
      return errorPage(403, 'Please open the link again', 'This form was not opened in this browser, or it is out of date. Open the transfer link again and confirm from there.');
    }
    const email = form.email.trim().toLowerCase();
    if (email.length > 254 || !EMAIL.test(email)) {
      return {
        status: 400,
        html: confirmFormPage({
          projectName: found.project.displayName,
          projectDescription: found.project.description,
          code: form.code,
          nonce: form.nonce,
          email: form.email,
          error: 'Enter a valid e-mail address.',
          expiresAt: found.transfer.expiresAt,
        }),
      };
    }
    const outcome = await this.db.transaction(async (tx) => {
      const transfer = await tx
        .getRepository(StackOwnershipTransferEntity)
        .findOne({ where: { codeHash: hashSecret(form.code) }, lock: { mode: 'pessimistic_write' } });
      if (!transfer) return 'unknown' as const;
      if (transfer.status === 'finished') return 'used' as const;
      if (transfer.expiresAt.getTime() <= Date.now()) return 'expired' as const;
      const projects = tx.getRepository(StackProjectEntity);
      const project = await projects.findOne({ where: { id: transfer.projectId }, lock: { mode: 'pessimistic_write' } });
      if (!project || project.ownedBy !== 'neon') return 'transferred' as const;
      const now = new Date();
      await projects.update({ id: project.id }, { ownedBy: 'user', ownerEmail: email });
      await tx.getRepository(StackOwnershipTransferEntity).update({ id: transfer.id }, { status: 'finished', finishedAt: now, newOwnerEmail: email });
      return { project };
    });
    if (typeof outcome === 'string') return deadLinkPage(outcome);
    // The project's owner changed: every replica drops its cached copy before the person reads "transferred".
    await this.projectsService.settleChanges();
    return { status: 200, html: transferDonePage(outcome.project.displayName, email) };
  }

  /** The transfer and project of a usable code, or the page that says why it is not usable. */
  private async findLive(
    code: string | undefined,
  ): Promise<{ transfer: StackOwnershipTransferEntity; project: StackProjectEntity } | { page: TransferPage }> {
    if (code === undefined || code === '') return { page: errorPage(400, 'Link incomplete', 'This transfer link has no code. Copy the whole link and try again.') };
    if (!CODE_PATTERN.test(code)) return { page: deadLinkPage('unknown') };
    // Transfer and project in one statement (one snapshot): read apart, a transfer finishing in between would
    // look like "transferred through another link" instead of "this link was used".
    const transfer = await this.db
      .getRepository(StackOwnershipTransferEntity)
      .findOne({ where: { codeHash: hashSecret(code) }, relations: { project: true } });
    if (!transfer) return { page: deadLinkPage('unknown') };
    if (transfer.status === 'finished') return { page: deadLinkPage('used') };
    if (transfer.expiresAt.getTime() <= Date.now()) return { page: deadLinkPage('expired') };
    const project = transfer.project;
    if (!project || project.ownedBy !== 'neon') return { page: deadLinkPage('transferred') };
    return { transfer, project };
  }

  /** HMAC of the code's hash and the browser's CSRF cookie, keyed from the secrets key. */
  private nonce(code: string, csrf: string): string {
    return createHmac('sha256', this.secrets.derive('stack-auth transfer confirm nonce v1'))
      .update(`${hashSecret(code)}.${csrf}`, 'utf8')
      .digest('base64url');
  }

  private nonceMatches(code: string, csrf: string, nonce: string): boolean {
    const expected = Buffer.from(this.nonce(code, csrf), 'utf8');
    const given = Buffer.from(nonce, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function errorPage(status: number, title: string, message: string): TransferPage {
  return { status, html: transferErrorPage(title, message) };
}

function deadLinkPage(reason: 'unknown' | 'used' | 'expired' | 'transferred'): TransferPage {
  switch (reason) {
    case 'unknown':
      return errorPage(404, 'Link not valid', 'This transfer link is not valid. Ask for a new one.');
    case 'used':
      return errorPage(410, 'Link already used', 'This transfer link was already used. Each link works once.');
    case 'expired':
      return errorPage(410, 'Link expired', 'This transfer link has expired. Ask for a new one.');
    case 'transferred':
      return errorPage(409, 'Already transferred', 'This project has already been transferred to an account.');
  }
}
