import { IsIn, IsOptional, IsString, MaxLength, MinLength, ValidateBy, type ValidationOptions } from 'class-validator';
import { parseUrl } from '../redirect-urls.js';

/** yup's `string().email()` (the HTML spec's e-mail pattern): Stack Auth's `emailSchema`. */
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** The extra pattern of Stack Auth's `strictEmailSchema` (no `a@localhost`, no `a..b@x.com`, a 2+ letter TLD). */
const STRICT_EMAIL = /^[^.]+(\.[^.]+)*@.*\.[^.][^.]+$/;
export const STRICT_EMAIL_MAX_LENGTH = 256;

/** Stack Auth's `strictEmailSchema`: an e-mail of at most 256 characters (checked first, so the patterns stay cheap). */
function IsStrictEmail(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStrictEmail',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length <= STRICT_EMAIL_MAX_LENGTH && EMAIL.test(value) && STRICT_EMAIL.test(value),
        defaultMessage: () => `$property must be a valid e-mail address of at most ${STRICT_EMAIL_MAX_LENGTH} characters`,
      },
    },
    options,
  );
}

/** Stack Auth's `emailSchema` (any syntactically valid e-mail). */
function IsEmailAddress(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEmailAddress',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && EMAIL.test(value),
        defaultMessage: () => '$property must be a valid e-mail address',
      },
    },
    options,
  );
}

/** Stack Auth's `urlSchema`: an absolute URL without spaces. */
function IsAbsoluteUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isAbsoluteUrl',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && !value.includes(' ') && parseUrl(value) !== null,
        defaultMessage: () => '$property is not a valid URL',
      },
    },
    options,
  );
}

/** Longest callback URL accepted (Stack Auth sets none; this keeps oversize input a SCHEMA_ERROR). */
const URL_MAX_LENGTH = 4096;
/** Bound for the ignored bot-challenge fields. */
const CHALLENGE_MAX_LENGTH = 4096;

/**
 * `POST /auth/password/sign-up`. The password is not length-checked here: the route answers
 * PASSWORD_TOO_SHORT / PASSWORD_TOO_LONG itself, after its configuration checks, as Stack Auth does.
 */
export class PasswordSignUpDto {
  @IsStrictEmail()
  email!: string;

  @IsString()
  password!: string;

  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  @IsAbsoluteUrl()
  verification_callback_url?: string | null;

  // Bot-challenge fields (2.8.108) and their older turnstile names: accepted and ignored.
  @IsOptional() @IsString() @MaxLength(CHALLENGE_MAX_LENGTH) bot_challenge_token?: string;
  @IsOptional() @IsIn(['invisible', 'visible']) bot_challenge_phase?: string;
  @IsOptional() @IsIn(['true', 'false']) bot_challenge_unavailable?: string;
  @IsOptional() @IsString() @MaxLength(CHALLENGE_MAX_LENGTH) turnstile_token?: string;
  @IsOptional() @IsIn(['invisible', 'visible']) turnstile_phase?: string;
  @IsOptional() @IsString() @MaxLength(CHALLENGE_MAX_LENGTH) turnstile_previous_result?: string;
}

/** `POST /auth/password/sign-in`: Stack Auth's `emailSchema` (non-empty) and `passwordSchema` (at most 70). */
export class PasswordSignInDto {
  @IsString()
  @MinLength(1, { message: '$property must not be empty' })
  @IsEmailAddress()
  email!: string;

  @IsString()
  @MaxLength(70)
  password!: string;
}
