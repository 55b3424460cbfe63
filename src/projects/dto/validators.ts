import { isIP } from 'node:net';
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../../common/errors.js';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { CustomField, type FieldOptions } from '../../common/api-fields.js';
import { MAX_IDENTIFIER_BYTES, pgNameProblem } from '../branch-databases/naming.js';

/** A Postgres database or role name as Neon accepts it (1..63 bytes; see naming.ts). */
export function IsPgName(kind: 'database' | 'role', options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPgName',
      validator: {
        validate: (value: unknown) => pgNameProblem(value, kind) === undefined,
        defaultMessage: (args) => `$property ${pgNameProblem(args?.value, kind) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

/** A request field holding a database or role name: `@IsPgName(kind)`, documented with maxLength 63 (the limit is in bytes). */
export function PgNameField(kind: 'database' | 'role', options: FieldOptions = {}): PropertyDecorator {
  return CustomField(IsPgName(kind), { type: String, maxLength: MAX_IDENTIFIER_BYTES }, options);
}

/**
 * An IP Allow entry as Neon takes them: an address (`203.0.113.7`), a CIDR block (`203.0.113.0/24`)
 * or a range (`203.0.113.7-203.0.113.42`), IPv4 or IPv6.
 */
export function ipAllowEntryIsValid(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 100) return false;
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (cidr) {
    const family = isIP(cidr[1]);
    return family !== 0 && Number(cidr[2]) <= (family === 4 ? 32 : 128);
  }
  const range = value.split('-');
  if (range.length === 2) {
    const a = isIP(range[0].trim());
    return a !== 0 && a === isIP(range[1].trim());
  }
  return isIP(value) !== 0;
}

export function IsIpAllowEntry(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIpAllowEntry',
      validator: {
        validate: ipAllowEntryIsValid,
        defaultMessage: () => '$property must hold IP addresses, CIDR blocks (a.b.c.d/n) or ranges (a.b.c.d-e.f.g.h)',
      },
    },
    options,
  );
}

/** Branch annotations are not stored here: Neon clients send `{}` by default, which is accepted. */
export function IsEmptyAnnotation(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEmptyAnnotation',
      validator: {
        validate: (value: unknown) =>
          value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0,
        defaultMessage: () => '$property must be an empty object: branch annotations are not supported by this server',
      },
    },
    options,
  );
}

/** Validates a database or role name path parameter (1..63 bytes, as in bodies): 400 naming the parameter. */
@Injectable()
export class PgNamePipe implements PipeTransform<string, string> {
  constructor(private readonly kind: 'database' | 'role') {}

  transform(value: string, metadata: ArgumentMetadata): string {
    const problem = pgNameProblem(value, this.kind);
    if (problem) throw ApiError.validation(`invalid path parameter ${metadata.data}: ${problem}`);
    return value;
  }
}

export const DATABASE_NAME_PARAM = { name: 'database_name', description: 'The database name', schema: { type: 'string', maxLength: MAX_IDENTIFIER_BYTES } } as const;
export const ROLE_NAME_PARAM = { name: 'role_name', description: 'The role name', schema: { type: 'string', maxLength: MAX_IDENTIFIER_BYTES } } as const;
