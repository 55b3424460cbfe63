import { Injectable, type PipeTransform, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidateIf, type ValidationError } from 'class-validator';
import { ApiError } from '../../../common/errors.js';
import { isUuid } from '../../../common/validation.js';

/**
 * Stack Auth's request validation for the provider's DTOs: unknown properties are refused as
 * "body contains unknown properties: a, b" (its wording), every other problem names its field as
 * `body.x` / `query.x` / `params.x`. Failures are thrown as validation errors, which StackErrorFilter
 * renders as SCHEMA_ERROR "Request validation failed on METHOD /path:\n  - ...".
 *
 * Use it through StackBodyPipe / StackQueryPipe with a parameter declared as an interface type (so the
 * global pipe, which would word unknown properties differently, leaves it alone), or call
 * parseStackInput when the schema depends on the caller (e.g. client vs server PATCH /users/me).
 */
export type StackInputLocation = 'body' | 'query';

/** Optional, but not nullable: absent is fine, `null` fails the field's other checks (yup's `.optional()`). */
export const Opt = (): PropertyDecorator => ValidateIf((_o: unknown, v: unknown) => v !== undefined);

/** Optional and nullable (yup's `.nullable().optional()`). */
export const Nullable = (): PropertyDecorator => ValidateIf((_o: unknown, v: unknown) => v !== undefined && v !== null);

function describe(errors: ValidationError[], parent: string, out: string[]): void {
  const unknown: string[] = [];
  for (const e of errors) {
    const path = `${parent}.${e.property}`;
    const constraints = { ...(e.constraints ?? {}) };
    if (constraints.whitelistValidation !== undefined) {
      unknown.push(e.property);
      delete constraints.whitelistValidation;
    }
    for (const message of Object.values(constraints)) {
      const text = message.startsWith(e.property) ? message.slice(e.property.length) : ` ${message}`;
      out.push(`${path}${text}`);
    }
    if (e.children?.length) describe(e.children, path, out);
  }
  if (unknown.length > 0) out.unshift(`${parent} contains unknown properties: ${unknown.join(', ')}`);
}

/** Throws a SCHEMA_ERROR-producing validation error listing `problems`. */
export function schemaProblems(problems: string[]): never {
  // The filter splits the message on "; " into one line per problem.
  throw ApiError.validation(`invalid request: ${problems.map((p) => p.replace(/; /g, ', ')).join('; ')}`);
}

/**
 * Validates `value` against the class-validator DTO `dto` and returns it unchanged (the DTO instance is
 * only the validation vehicle, so JSON values such as metadata reach the service exactly as sent).
 */
export function parseStackInput<T extends object>(dto: Type<unknown>, value: unknown, where: StackInputLocation): T {
  const input = value === undefined || value === null ? {} : value;
  if (typeof input !== 'object' || Array.isArray(input)) schemaProblems([`${where} must be an object`]);
  // Strings PostgreSQL cannot store (NUL, unpaired surrogates) were already refused by the global pipe.
  const instance = plainToInstance(dto, input, { enableImplicitConversion: false }) as object;
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, validationError: { target: false, value: false } });
  if (errors.length > 0) {
    const problems: string[] = [];
    describe(errors, where, problems);
    schemaProblems(problems);
  }
  return input as T;
}

/** `@Body(new StackBodyPipe(Dto)) body: SomeInterface` */
@Injectable()
export class StackBodyPipe implements PipeTransform {
  constructor(private readonly dto: Type<unknown>) {}
  transform(value: unknown): unknown {
    return parseStackInput(this.dto, value, 'body');
  }
}

/** `@Query(new StackQueryPipe(Dto)) query: SomeInterface` */
@Injectable()
export class StackQueryPipe implements PipeTransform {
  constructor(private readonly dto: Type<unknown>) {}
  transform(value: unknown): unknown {
    return parseStackInput(this.dto, value, 'query');
  }
}

/** A UUID path parameter, lower-cased; anything else is a SCHEMA_ERROR naming `params.<name>`. */
@Injectable()
export class StackUuidParamPipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}
  transform(value: string): string {
    if (!isUuid(value)) schemaProblems([`params.${this.name} must be a valid UUID`]);
    return value.toLowerCase();
  }
}
