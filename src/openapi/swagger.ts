import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { GeneralErrorDto } from '../common/dto/general-error.dto.js';
import type { AppConfig } from '../config/config.js';
import { REQUEST_EXAMPLES } from './request-examples.js';

export const EXTENSIONS_TAG = 'Extensions';

/**
 * The tags in the order a person works through them (Swagger UI follows the document's `tags`): projects and their
 * branches first, then Neon Auth, then the rest. Every tag an operation uses is listed (test/e2e/openapi-examples).
 */
const TAGS: readonly { name: string; description: string }[] = [
  { name: 'Project', description: 'Projects: create one first; each has a default branch with a database.' },
  { name: 'Branch', description: 'Branches of a project, each a real PostgreSQL database, with their roles and databases.' },
  { name: 'Auth', description: "Neon Auth on a branch: enable it, its users (in the branch's neon_auth.users_sync), SDK keys and every setting." },
  { name: 'Auth (legacy)', description: 'The earlier project-level Neon Auth routes (Stack Auth), kept for the clients that call them.' },
  { name: 'Organizations', description: 'Organizations, their members, invitations and organization API keys.' },
  { name: 'API Key', description: 'Personal API keys of the caller.' },
  { name: 'Users', description: 'The caller: who the key belongs to and their organizations.' },
  { name: 'Operation', description: "Operations a project's changes ran as." },
  { name: EXTENSIONS_TAG, description: "Operations Neon performs in its console rather than its API (this product's extensions)." },
];

/** How Swagger UI's "Authorize" explains the key (it adds "Bearer " itself). */
const BEARER_DESCRIPTION =
  'An API key (personal, organization or project-scoped), as it was shown when created: `napi_…`. Paste the key alone: ' +
  '"Authorize" sends it as `Authorization: Bearer <key>`. Get one with `POST /api_keys`; the first start saves the ' +
  'platform admin\'s in `<DATA_DIR>/bootstrap-api-key` (README: "The first API key")';

/**
 * Builds the OpenAPI document from the controllers. Output is deterministic: operation ids are
 * the controller method names, and every key is sorted, so the committed file diffs cleanly.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Neon Auth control plane API')
    .setDescription(
      'A self-hostable, Neon-compatible management API (`/api/v2`). Paths, bodies, status codes and errors follow ' +
        "Neon's API so that `@neondatabase/api-client` and `neonctl` work unchanged. Operations Neon performs in its " +
        `console rather than its API are tagged \`${EXTENSIONS_TAG}\`. Every error body is a GeneralError.`,
    )
    .setVersion('v2')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: BEARER_DESCRIPTION }, 'BearerAuth');
  for (const tag of TAGS) builder.addTag(tag.name, tag.description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
    extraModels: [GeneralErrorDto],
  });
  // The keys are opaque (`napi_…`), not JWTs: no bearerFormat (the builder's default says JWT).
  const scheme = document.components?.securitySchemes?.BearerAuth;
  if (scheme && 'bearerFormat' in scheme) delete scheme.bearerFormat;
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem)) {
      if (operation && typeof operation === 'object' && 'responses' in operation) {
        operation.responses.default ??= {
          description: 'General error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/GeneralErrorDto' } } },
        };
        // Every body has one (test/e2e/openapi-examples.e2e-spec.ts fails the suite otherwise, and sends each).
        const body = operation.requestBody;
        const json = body && 'content' in body ? body.content['application/json'] : undefined;
        const example = REQUEST_EXAMPLES[operation.operationId];
        if (json && example !== undefined) json.example = example;
      }
    }
  }
  return sortKeys(stripDtoSuffix(document)) as OpenAPIObject;
}

/**
 * Names schemas as Neon does ("ApiKeyCreateRequest", not the class name "ApiKeyCreateRequestDto"), so the
 * generated client's types read like Neon's.
 */
function stripDtoSuffix(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  const renamed = new Map(Object.keys(schemas).map((name) => [name, name.replace(/Dto$/, '')]));
  const seen = new Set(renamed.values());
  if (seen.size !== renamed.size) throw new Error('two OpenAPI schemas map to the same name once "Dto" is stripped');
  const json = JSON.stringify(document).replace(/"#\/components\/schemas\/([A-Za-z0-9_]+)"/g, (m, name: string) =>
    renamed.has(name) ? `"#/components/schemas/${renamed.get(name)}"` : m,
  );
  const out = JSON.parse(json) as OpenAPIObject;
  out.components!.schemas = Object.fromEntries(Object.entries(out.components!.schemas!).map(([k, v]) => [renamed.get(k) ?? k, v]));
  return out;
}

/** Recursively sorts object keys (arrays keep their order: it can be meaningful). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Serves Swagger UI at /api/docs (with a working "Authorize" for Bearer keys) and JSON at /api/docs-json.
 * The key a person pastes into "Authorize" lives only as long as the page: persistAuthorization would keep
 * it in the browser's localStorage, where any script of this origin, and anyone at the machine later,
 * could read it.
 */
export function setupSwagger(app: INestApplication, _config: AppConfig): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    customSiteTitle: 'Neon Auth control plane API',
    swaggerOptions: { persistAuthorization: false, displayRequestDuration: true },
  });
}
