import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { IsNeonId, NEON_ID_PROPERTY, OptionalNotNull, QueryBoolean } from './validation.js';

/**
 * Request fields declared once: each decorator below applies a field's validation (class-validator and
 * class-transformer) and its `@ApiProperty` entry from one options object, so the API document states
 * exactly what the server checks.
 *
 * Validators run in a fixed order per decorator (documented on each), and a 400 lists the failures in
 * that order.
 */
export interface FieldOptions {
  /**
   * `true`: the field may be absent or null (`@IsOptional()`); `'not-null'`: it may be absent, but null is
   * refused (`@OptionalNotNull()`). Without it the field is required.
   */
  optional?: true | 'not-null';
  /**
   * Required fields get `@IsDefined()` ("should not be null or undefined") unless this is `false`: an absent
   * value is then refused by the field's own validators only.
   */
  isDefined?: false;
  description?: string;
  example?: string;
}

/** A string: `@IsString()`, then MinLength (or notBlank's IsNotEmpty), MaxLength, format, pattern, neonId, notBlank's /\S/. */
export interface StringFieldOptions extends FieldOptions {
  minLength?: number;
  maxLength?: number;
  /** `email`: `@IsEmail` ("must be an email address"; never empty, so minLength 1). `uri`: an absolute http(s) URL. */
  format?: 'email' | 'uri';
  /** `@Matches(pattern)` with class-validator's message ("must match /…/ regular expression"). */
  pattern?: RegExp;
  /** A Neon id: `@IsNeonId()` ("must match ^[a-z0-9-]{1,60}$"). */
  neonId?: true;
  /** Not empty (`@IsNotEmpty()`) and not only whitespace ("must not be blank"); minLength 1. */
  notBlank?: true;
  default?: string;
}

export function StringField(options: StringFieldOptions = {}): PropertyDecorator {
  const { minLength, maxLength, format, pattern, neonId, notBlank } = options;
  return field(
    options,
    {
      type: String,
      minLength: minLength ?? (format === 'email' || notBlank ? 1 : undefined),
      maxLength,
      format,
      pattern: pattern?.source,
      ...(neonId && NEON_ID_PROPERTY),
      default: options.default,
    },
    [
      IsString(),
      minLength !== undefined && MinLength(minLength),
      notBlank && IsNotEmpty(),
      maxLength !== undefined && MaxLength(maxLength),
      format === 'email' && IsEmail({}, { message: '$property must be an email address' }),
      format === 'uri' && Matches(/^https?:\/\/[^\s]+$/, { message: '$property must be an absolute http(s) URL' }),
      pattern && Matches(pattern),
      neonId && IsNeonId(),
      notBlank && Matches(/\S/, { message: '$property must not be blank' }),
    ],
  );
}

/** One of `enum`: `@IsIn(enum)` (no `@IsString()`: "must be one of the following values: …"). */
export function EnumField<T extends string>(
  options: FieldOptions & { enum: readonly T[]; enumName?: string; default?: NoInfer<T> },
): PropertyDecorator {
  return field(options, { enum: [...options.enum], enumName: options.enumName, default: options.default }, [IsIn(options.enum)]);
}

/**
 * A field checked by one validator of its own (e.g. `@IsPgName`, whose `PgNameField` is in
 * src/projects/dto/validators.ts), with the `@ApiProperty` entry that states what that validator accepts.
 */
export function CustomField(validator: PropertyDecorator, schema: ApiPropertyOptions, options: FieldOptions = {}): PropertyDecorator {
  return field(options, schema, [validator]);
}

/**
 * An integer: `@IsInt()`, `@Min`, `@Max`. `query`: the value comes from the query string and is converted
 * with `@Type(() => Number)` first.
 */
export function IntField(
  options: FieldOptions & { minimum?: number; maximum?: number; default?: number; query?: true },
): PropertyDecorator {
  const { minimum, maximum, query } = options;
  return field(options, { type: 'integer', minimum, maximum, default: options.default }, [
    query && Type(() => Number),
    IsInt(),
    minimum !== undefined && Min(minimum),
    maximum !== undefined && Max(maximum),
  ]);
}

/** A boolean: `@IsBoolean()`. `query`: "true" / "false" from the query string are converted first (`@QueryBoolean()`). */
export function BooleanField(options: FieldOptions & { default?: boolean; query?: true } = {}): PropertyDecorator {
  return field(options, { type: 'boolean', default: options.default }, [options.query && QueryBoolean(), IsBoolean()]);
}

/** A nested object of class `type`: `@IsObject()`, `@ValidateNested()`, and `@Type` to build the instance. */
export function NestedField(type: new () => object, options: FieldOptions = {}): PropertyDecorator {
  return field(options, { type }, [IsObject(), ValidateNested(), Type(() => type)]);
}

/**
 * The property's decorators, as if stacked in the order listed: the `@ApiProperty` entry, the presence
 * validator, then `validators` (false entries are options not given).
 */
function field(options: FieldOptions, schema: ApiPropertyOptions, validators: (PropertyDecorator | false | undefined)[]): PropertyDecorator {
  const { optional, isDefined, description, example } = options;
  const entry = withoutUndefined({ ...schema, description, example });
  const presence = optional === true ? IsOptional() : optional === 'not-null' ? OptionalNotNull() : isDefined === false ? undefined : IsDefined();
  const decorators = [optional ? ApiPropertyOptional(entry) : ApiProperty(entry), presence, ...validators].filter(
    (d): d is PropertyDecorator => typeof d === 'function',
  );
  // Stacked decorators are applied bottom-up and applyDecorators applies its arguments first to last; class-validator
  // checks a property's constraints in the order they were applied, which is the order of the 400's messages.
  return applyDecorators(...decorators.reverse());
}

function withoutUndefined(entry: ApiPropertyOptions): ApiPropertyOptions {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as ApiPropertyOptions;
}
