import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { Matches, ValidateIf } from 'class-validator';
import { ApiError } from './errors.js';

/** Neon's id pattern for projects, branches, organizations and endpoints, as written in the OpenAPI document. */
export const NEON_ID_SOURCE = '^[a-z0-9-]{1,60}$';
export const NEON_ID_PATTERN = new RegExp(NEON_ID_SOURCE);
/** `@ApiProperty` options of a Neon id. */
export const NEON_ID_PROPERTY = { pattern: NEON_ID_SOURCE } as const;
/** OpenAPI schema of a Neon id path parameter. */
export const NEON_ID_PARAM_SCHEMA = { type: 'string', pattern: NEON_ID_SOURCE } as const;

/**
 * Optional, but not nullable: an absent field skips validation, while `null` is validated (and refused by the
 * field's type validators with a 400 naming it). `@IsOptional()` would let `null` through to a NOT NULL
 * column or a service that reads it as "given".
 */
export function OptionalNotNull(): PropertyDecorator {
  return ValidateIf((_object: unknown, value: unknown) => value !== undefined);
}

/** Query-string booleans: "true" / "false" become booleans; anything else is left for @IsBoolean to refuse. */
export function QueryBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
}

/** A body or query field that must be a Neon id ("<field> must match ^[a-z0-9-]{1,60}$"). */
export function IsNeonId(): PropertyDecorator {
  return Matches(NEON_ID_PATTERN, { message: `$property must match ${NEON_ID_SOURCE}` });
}

function flatten(errors: ValidationError[], parent: string, out: string[]): string[] {
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      // class-validator prefixes messages with the bare property name; name the full path instead.
      const text = message.startsWith(`${e.property} `) ? message.slice(e.property.length + 1) : message;
      out.push(`[${path}] ${text}`);
    }
    if (e.children?.length) flatten(e.children, path, out);
  }
  return out;
}

/**
 * Finds input PostgreSQL cannot take or that would bypass the whitelist: NUL characters (text columns
 * reject them, which would otherwise surface as a 500) and own `__proto__` keys (JSON.parse keeps them,
 * class-transformer silently drops them, so they would escape forbidNonWhitelisted). Returns a problem.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function findUnacceptable(value: unknown, path: string, depth = 0): string | undefined {
  const at = (p: string): string => (p ? `[${p}] ` : '');
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return `${at(path)}must not contain NUL (\\u0000) characters`;
    // PostgreSQL stores UTF-8: an unpaired UTF-16 surrogate cannot be stored (jsonb refuses it, text mangles it).
    if (LONE_SURROGATE.test(value)) return `${at(path)}must be valid Unicode (it contains an unpaired surrogate)`;
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > 100) return `${at(path)}is nested too deeply`;
  for (const key of Object.keys(value)) {
    const child = path ? `${path}.${key}` : key;
    if (key === '__proto__') return `[${child}] property ${key} should not exist`;
    if (key.includes('\u0000')) return `${at(path)}field names must not contain NUL (\\u0000) characters`;
    if (LONE_SURROGATE.test(key)) return `${at(path)}field names must be valid Unicode`;
    const problem = findUnacceptable((value as Record<string, unknown>)[key], child, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The global pipe's first check, for handlers served outside Nest's pipeline (the provider's user routes ahead of
 * Express): throws its 400 when `value` (a body, a query, or the path parameter `name`) holds input PostgreSQL cannot
 * take (see findUnacceptable).
 */
export function refuseUnacceptable(value: unknown, name = ''): void {
  const problem = findUnacceptable(value, name);
  if (problem) throw ApiError.validation(`invalid request: ${problem}`);
}

/**
 * Refuses what findUnacceptable finds in bodies, queries and params, and leaves path parameters as the raw
 * strings they are: the route's own id pipes validate and convert them.
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') refuseUnacceptable(value, metadata.type === 'body' ? '' : (metadata.data ?? ''));
    return super.transform(value, metadata);
  }

  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'param' ? value : super.transformPrimitive(value, metadata);
  }
}

/**
 * The global pipe: strips nothing silently (unknown fields are errors), converts query strings to
 * declared types, and names every failing field in one 400.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) => {
      const problems = flatten(errors, '', []);
      return ApiError.validation(`invalid request: ${problems.join('; ')}`);
    },
  });
}

/** Validates a Neon-style id path parameter (`^[a-z0-9-]{1,60}$`). */
@Injectable()
export class NeonIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !NEON_ID_PATTERN.test(value)) {
      throw ApiError.validation(`invalid path parameter ${metadata.data}: must match ${NEON_ID_SOURCE}`);
    }
    return value;
  }
}

/** Validates a numeric (int64) id path parameter such as an API key id. */
@Injectable()
export class Int64IdPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    if (typeof value !== 'string' || !/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw ApiError.validation(`invalid path parameter ${metadata.data}: must be a positive integer`);
    }
    return Number(value);
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its canonical textual form (any version, either case). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** Validates a UUID path parameter. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isUuid(value)) {
      throw ApiError.validation(`invalid path parameter ${metadata.data}: must be a UUID`);
    }
    return value.toLowerCase();
  }
}
