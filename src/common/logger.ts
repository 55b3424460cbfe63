import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Paths whose values never reach the logs. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.key',
  '*.api_key',
  '*.token',
  '*.secret',
  '*.databaseUrl',
];

/** Fields of an error that identify the failure without repeating the data involved. */
const KEPT_FIELDS = ['code', 'constraint', 'table', 'column', 'schema', 'routine', 'severity', 'errno', 'syscall', 'status'] as const;
const MAX_DEPTH = 5;
const MAX_NESTED = 10;

export interface SerializedError {
  type: string;
  message?: string;
  stack?: string;
  code?: string | number;
  cause?: unknown;
  errors?: unknown[];
  [field: string]: unknown;
}

/**
 * The one serializer of errors in the logs (`err`, `error` and `cause`, on every logger the product makes).
 * It keeps what says what failed and where: the type, the message, the stack, the code (PostgreSQL's SQLSTATE,
 * or a Node error code) and the names of the constraint, table, column and schema involved; then `cause` and
 * the entries of an AggregateError (`errors`), the same way. It keeps nothing else. A failed query carries
 * PostgreSQL's `detail` ("Key (email)=(ada@example.com) already exists"), `where`, `internalQuery`, the query
 * text and its bound `parameters`, and TypeORM copies all of them into `driverError` and onto the error itself:
 * those hold personal data and secrets (role passwords in DDL), so they are never logged, whatever property
 * holds them. Strings and numbers are logged as they are (the product logs an error's message that way); any
 * other value, a cycle, or a property that throws when read is described, never thrown from.
 */
export function serializeError(value: unknown): unknown {
  try {
    return serialize(value, new WeakSet(), 0);
  } catch {
    return { type: 'unserializable error' };
  }
}

function serialize(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value !== 'object' && typeof value !== 'function') return { type: typeof value };
  const source = unwrapStdSerialized(value);
  if (seen.has(source)) return { type: '[Circular]' };
  seen.add(source);
  const e = source as Record<string, unknown>;
  const out: SerializedError = { type: typeOf(source) };
  const message = read(e, 'message');
  if (typeof message === 'string') out.message = message;
  const stack = read(e, 'stack');
  if (typeof stack === 'string') out.stack = stack;
  const driver = read(e, 'driverError');
  for (const field of KEPT_FIELDS) {
    let v = read(e, field);
    if (v === undefined && driver !== null && typeof driver === 'object') v = read(driver as Record<string, unknown>, field);
    if (typeof v === 'string' || typeof v === 'number') out[field] = v;
  }
  if (depth < MAX_DEPTH) {
    const cause = read(e, 'cause');
    if (cause !== undefined) out.cause = serialize(cause, seen, depth + 1);
    const errors = read(e, 'errors') ?? read(e, 'aggregateErrors');
    if (Array.isArray(errors)) out.errors = errors.slice(0, MAX_NESTED).map((x: unknown) => serialize(x, seen, depth + 1));
  }
  return out;
}

/** An error already serialized by pino's standard serializer (`{type, message, stack, raw}`): the original is on its `raw`. */
function unwrapStdSerialized(value: object): object {
  if (value instanceof Error) return value;
  const raw = read(value as Record<string, unknown>, 'raw');
  return raw instanceof Error ? raw : value;
}

function typeOf(value: object): string {
  if (!(value instanceof Error)) {
    const type = read(value as Record<string, unknown>, 'type');
    if (typeof type === 'string') return type;
  }
  const name = (read(value as Record<string, unknown>, 'constructor') as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}

/** `target[key]`, or undefined when reading it throws (a getter, a proxy). */
function read(target: Record<string, unknown>, key: string): unknown {
  try {
    return target[key];
  } catch {
    return undefined;
  }
}

/** Serializers of every logger: errors under `err`, `error` and `cause` go through serializeError. */
export const LOG_SERIALIZERS = { err: serializeError, error: serializeError, cause: serializeError };

/** The product's logger: JSON lines on stdout (or `destination`), secrets redacted, errors through serializeError. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'neon-auth-control-plane' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: LOG_SERIALIZERS,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

const STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Adapts pino to Nest's LoggerService so framework messages are JSON lines too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    // Nest's start-up chatter (one line per module and route) is debug detail, not operational news.
    const level = context && STARTUP_CONTEXTS.has(context) ? 'debug' : 'info';
    this.logger[level]({ context }, stringify(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    // Nest passes the error itself at times: through the serializer, never JSON.stringify (which would write its detail).
    if (message instanceof Error) this.logger.error({ context, trace, err: message }, message.message);
    else this.logger.error({ context, trace }, stringify(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, stringify(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, stringify(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, stringify(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, stringify(message));
  }
}

function stringify(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  return JSON.stringify(message);
}

export const LOGGER = Symbol('LOGGER');
