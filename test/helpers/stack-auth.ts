import { DataSource } from 'typeorm';
import { ProvisioningService } from '../../src/stack-auth/projects/provisioning.service.js';
import { StackProjectsService } from '../../src/stack-auth/projects/stack-projects.service.js';
import type { TestApp } from './test-app.js';

export interface StackTestProject {
  projectId: string;
  /** `${baseUrl}/stack-auth`: what the SDK's baseUrl is set to. */
  baseUrl: string;
  superSecretAdminKey: string;
  publishableClientKey: string;
  secretServerKey: string;
}

/**
 * A provider project with a client and a server key, made through the provider's own services (the
 * HTTP provisioning API is tested on its own).
 */
export async function createStackProject(t: TestApp, displayName = 'Test project'): Promise<StackTestProject> {
  const { project, superSecretAdminKey } = await t.app.get(ProvisioningService).provisionProject(displayName);
  const keys = await t.app
    .get(DataSource)
    .transaction((tx) =>
      t.app.get(StackProjectsService).createKeySet(tx, project.id, { description: 'test keys', publishableClientKey: true, secretServerKey: true }),
    );
  return {
    projectId: project.id,
    baseUrl: `${t.baseUrl}/stack-auth`,
    superSecretAdminKey,
    publishableClientKey: keys.publishableClientKey!,
    secretServerKey: keys.secretServerKey!,
  };
}

/** Headers of server access (x-stack-* family, or x-hexclave-* with `prefix: 'hexclave'`). */
export function serverHeaders(p: StackTestProject, prefix: 'stack' | 'hexclave' = 'stack'): Record<string, string> {
  return {
    [`x-${prefix}-access-type`]: 'server',
    [`x-${prefix}-project-id`]: p.projectId,
    [`x-${prefix}-secret-server-key`]: p.secretServerKey,
  };
}

export function clientHeaders(p: StackTestProject, prefix: 'stack' | 'hexclave' = 'stack'): Record<string, string> {
  return {
    [`x-${prefix}-access-type`]: 'client',
    [`x-${prefix}-project-id`]: p.projectId,
    [`x-${prefix}-publishable-client-key`]: p.publishableClientKey,
  };
}
