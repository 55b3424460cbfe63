import { ArgumentsHost, Body, Catch, Controller, ExceptionFilter, Get, HttpCode, HttpException, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { EmbeddedProviderRoutes } from '../../common/access-policy.js';
import { ApiError } from '../../common/errors.js';
import { LOGGER, serializeError } from '../../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { ConfirmTransferFormDto } from './dto/neon-integration.dto.js';
import { OwnershipTransferService, TRANSFER_CONFIRM_PATH, TRANSFER_CSRF_COOKIE, type TransferPage } from './ownership-transfer.service.js';
import { PAGE_HEADERS, transferErrorPage } from './transfer-page.js';

/** Renders whatever a page route throws (bad form fields included) as an HTML page. */
@Catch()
export class TransferPageErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    let status = 500;
    if (exception instanceof ApiError && exception.status < 500) status = exception.status;
    else if (exception instanceof HttpException && exception.getStatus() < 500) status = exception.getStatus();
    if (status >= 500) this.logger.error({ err: serializeError(exception) }, 'transfer confirm page failed');
    res.status(status).set(PAGE_HEADERS);
    res.removeHeader('access-control-allow-origin');
    res.send(
      status >= 500
        ? transferErrorPage('Something went wrong', 'The transfer could not be completed. Nothing was changed; try again.')
        : transferErrorPage('Form incomplete', 'The form was incomplete or malformed. Open the transfer link again.'),
    );
  }
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.header('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The page a person opens from the link that `POST /integrations/neon/projects/transfer` returns:
 * `${PUBLIC_URL}/stack-auth/integrations/neon/projects/transfer/confirm?code=...` (outside `/api/v1`, like
 * Stack Auth's dashboard page). GET shows the form; the form POSTs the code, a nonce bound to a
 * SameSite=Strict cookie, and the account's e-mail.
 */
@Controller(TRANSFER_CONFIRM_PATH.slice(1, -'/confirm'.length))
@EmbeddedProviderRoutes()
@UseFilters(TransferPageErrorFilter)
export class TransferConfirmController {
  constructor(
    private readonly transfers: OwnershipTransferService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('confirm')
  async showConfirmPage(@Query('code') code: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const page = await this.transfers.confirmPage(typeof code === 'string' ? code : undefined, cookie(req, TRANSFER_CSRF_COOKIE));
    this.send(res, page);
  }

  @Post('confirm')
  @HttpCode(200)
  async submitConfirmPage(@Body() form: ConfirmTransferFormDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    this.send(res, await this.transfers.confirm(form, cookie(req, TRANSFER_CSRF_COOKIE)));
  }

  private send(res: Response, page: TransferPage): void {
    res.status(page.status).set(PAGE_HEADERS);
    // A page, not an API: no cross-origin reads.
    res.removeHeader('access-control-allow-origin');
    if (page.csrfCookie) {
      const secure = this.config.publicUrl.startsWith('https:') ? '; Secure' : '';
      res.setHeader(
        'set-cookie',
        `${TRANSFER_CSRF_COOKIE}=${page.csrfCookie}; Path=${TRANSFER_CONFIRM_PATH.slice(0, -'/confirm'.length)}; Max-Age=3600; HttpOnly; SameSite=Strict${secure}`,
      );
    }
    res.send(page.html);
  }
}
