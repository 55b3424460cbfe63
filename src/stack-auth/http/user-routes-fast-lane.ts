import type http from 'node:http';
import querystring from 'node:querystring';
import type { Logger } from 'pino';
import { mountAheadOfApplication } from '../../common/ahead-of-application.js';
import { isUuid, refuseUnacceptable } from '../../common/validation.js';
import { ListUsersQueryDto } from '../users/dto/list-users-query.dto.js';
import { StackUuidParamPipe, parseStackInput } from '../users/dto/stack-validation.js';
import { ServerUserCreateDto, ServerUserUpdateDto } from '../users/dto/user-body.dto.js';
import type { StackUsersService, UserCreateInput, UserUpdateInput } from '../users/stack-users.service.js';
import { toServerUser } from '../users/user-shapes.js';
import { writeStackFailure } from './stack-error.filter.js';
import type { StackAuthGuard, StackAccessType } from './stack-auth.guard.js';
import { STACK_AUTH_PATH, requestHasBody } from './stack-http.js';

/** A connect-style middleware of the application, run here as it is. */
export type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;

export interface StackUserRoutesLane {
  /**
   * The application's middleware ahead of routing that applies to the provider's API, in the application's order
   * (security headers, request id, HTTP metrics, request log, the provider's headers), the same instances.
   */
  head: Middleware[];
  /** The application's JSON body parser (the same instance: limit, charsets, inflation and errors as everywhere). */
  json: Middleware;
  /** What the application runs after its body parsers on the provider's API: a body no parser read is refused. */
  unparsedBody: Middleware;
  guard: StackAuthGuard;
  users: StackUsersService;
  logger: Logger;
}

const USERS = `${STACK_AUTH_PATH}/api/v1/users`;
/** The route templates Express would have matched (the HTTP metrics' `route` label). */
const USERS_ROUTE = USERS;
const USER_ROUTE = `${USERS}/:user_id`;
const SERVER_ACCESS: readonly StackAccessType[] = ['server', 'admin'];

type Route = { kind: 'create' } | { kind: 'update' | 'delete'; userId: string };

/** Express matches JSON bodies by these types (express.json's `type`); any other body goes to the application. */
function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * The route of a request this lane serves, or undefined for the application: `POST /users` and `PATCH`/`DELETE
 * /users/{uuid}` on the exact lower-case path, with a JSON body or none. Anything else (another path spelling Express
 * would also match, a body in another type, `me`, a parameter that is not a plain UUID) takes the application's
 * pipeline, which answers it as it always has.
 */
function routeOf(req: http.IncomingMessage): Route | undefined {
  const method = req.method;
  if (method !== 'POST' && method !== 'PATCH' && method !== 'DELETE') return undefined;
  const url = req.url ?? '';
  if (!url.startsWith(USERS)) return undefined;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (requestHasBody(req) && !isJsonType(req.headers['content-type'])) return undefined;
  if (path === USERS) return method === 'POST' ? { kind: 'create' } : undefined;
  if (method === 'POST' || path.charCodeAt(USERS.length) !== 47 /* '/' */) return undefined;
  const userId = path.slice(USERS.length + 1);
  if (!isUuid(userId)) return undefined;
  return { kind: method === 'PATCH' ? 'update' : 'delete', userId };
}

function runChain(chain: Middleware[], req: http.IncomingMessage, res: http.ServerResponse, done: (err?: unknown) => void): void {
  let i = 0;
  let finished = false;
  const finish = (err?: unknown): void => {
    if (finished) return;
    finished = true;
    done(err);
  };
  const next = (err?: unknown): void => {
    if (err !== undefined && err !== null) return finish(err);
    const middleware = chain[i++];
    if (middleware === undefined) return finish();
    try {
      middleware(req, res, next);
    } catch (thrown) {
      finish(thrown);
    }
  };
  next();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * The provider's hot user routes, served on the HTTP server ahead of Express (as the sync webhook receiver is):
 * every server-API sign-up, update and delete passes here, and the framework's routing and pipeline were about a third
 * of such a request's CPU. The same steps in the same order, with the application's own pieces: its middleware ahead
 * of routing (the same instances), its JSON parser, StackAuthGuard, the global pipe's check (refuseUnacceptable), the
 * routes' pipes (parameter, query, body: Nest's order), StackUsersService, toServerUser, and the provider's error
 * mapping and writer. What StackUsersController answers for these routes is what this answers (the provider's e2e
 * suite runs against it); every other request goes to the application unchanged.
 */
export function mountStackUserRoutes(server: http.Server, lane: StackUserRoutesLane): void {
  // The whole chain ahead of the handler, built once: the application's middleware, then its body parsing.
  const chain = [...lane.head, lane.json, lane.unparsedBody];
  mountAheadOfApplication(server, (req, res) => {
    const route = routeOf(req);
    if (route === undefined) return false;
    serve(req, res, route, chain, lane);
    return true;
  });
}

function serve(req: http.IncomingMessage, res: http.ServerResponse, route: Route, chain: Middleware[], lane: StackUserRoutesLane): void {
  // What Express would have set, for the pieces that read it (request log, metrics, error messages).
  const express = req as http.IncomingMessage & { originalUrl: string; baseUrl: string; route: { path: string }; body?: unknown };
  express.originalUrl = req.url ?? '';
  express.baseUrl = '';
  const fail = (err: unknown): void => writeStackFailure(lane.logger, express, res, err);
  runChain(chain, req, res, (err) => {
    if (err !== undefined) return fail(err);
    // Routed, as Express would have it only now: a body refused above is counted as unmatched there too.
    express.route = { path: route.kind === 'create' ? USERS_ROUTE : USER_ROUTE };
    handle(express, route, lane).then((answer) => sendJson(res, answer.status, answer.body), fail);
  });
}

async function handle(req: http.IncomingMessage & { originalUrl: string; body?: unknown }, route: Route, lane: StackUserRoutesLane): Promise<{ status: number; body: unknown }> {
  const auth = await lane.guard.authorize(req, SERVER_ACCESS);
  const projectId = auth.project.id;
  if (route.kind === 'create') {
    refuseUnacceptable(req.body);
    const input = parseStackInput<UserCreateInput>(ServerUserCreateDto, req.body, 'body');
    return { status: 201, body: toServerUser(await lane.users.create(projectId, input)) };
  }
  const q = req.originalUrl.indexOf('?');
  const query = querystring.parse(q === -1 ? '' : req.originalUrl.slice(q + 1));
  // Nest runs the parameters' pipes together: the global pipe's check of each parameter (path, query, body) fails
  // before any route pipe's validation does, and among equals the earlier parameter's failure is the answer.
  refuseUnacceptable(route.userId, 'user_id');
  refuseUnacceptable(query);
  if (route.kind === 'update') refuseUnacceptable(req.body);
  const userId = new StackUuidParamPipe('user_id').transform(route.userId);
  parseStackInput(ListUsersQueryDto, query, 'query');
  if (route.kind === 'delete') {
    await lane.users.delete(projectId, userId);
    return { status: 200, body: { success: true } };
  }
  const input = parseStackInput<UserUpdateInput>(ServerUserUpdateDto, req.body, 'body');
  return { status: 200, body: toServerUser(await lane.users.update(projectId, userId, input)) };
}
