import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import { AUDIT_KEY, type AuditSpec } from '../common/audited.js';
import { ApiError, httpStatusOf } from '../common/errors.js';
import { AuditService } from './audit.service.js';

/**
 * Appends an audit record for every route that declares `@Audited(...)`, once it answered successfully (and for
 * the refusals it names), before the answer leaves: a caller who saw the answer can read the record.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<AuditSpec | undefined>(AUDIT_KEY, context.getHandler());
    if (!spec) return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        if (!spec.refusalsOnly) await this.audit.record(spec, req, res.statusCode, body);
        return body;
      }),
      catchError((err: unknown) =>
        from(
          (async () => {
            if (err instanceof ApiError && spec.refusals?.includes(err.code)) await this.audit.record(spec, req, httpStatusOf(err.code), undefined, err);
            throw err;
          })(),
        ),
      ),
    );
  }
}
