import { ensureDirectory } from '../common/data-dir.js';
import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SystemStateEntity } from '../database/system-state.entity.js';
import { AccountsService } from './accounts.service.js';
import { ApiKeysService } from './api-keys.service.js';
import { OrganizationsService } from './organizations.service.js';

const BOOTSTRAP_STATE_KEY = 'bootstrap';
export const BOOTSTRAP_KEY_FILE = 'bootstrap-api-key';

/**
 * First start: a platform-admin account with its own organization (role admin) and a personal
 * API key. Runs under the migration lock and records itself in system_state, so restarts and
 * replicas never create a second one.
 */
@Injectable()
export class BootstrapService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly accounts: AccountsService,
    private readonly organizations: OrganizationsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async ensureBootstrapped(): Promise<void> {
    const done = await this.db.getRepository(SystemStateEntity).findOneBy({ key: BOOTSTRAP_STATE_KEY });
    if (done) return;
    const { accountId, orgId, keyId, secret } = await this.db.transaction(async (tx: EntityManager) => {
      const account = await this.accounts.create(tx, {
        email: this.config.bootstrapAdminEmail,
        name: this.config.bootstrapAdminName,
        isPlatformAdmin: true,
      });
      const org = await this.organizations.createWithAdmin(tx, `${this.config.bootstrapAdminName}'s organization`, account.id);
      const key = await this.apiKeys.createPersonalKey(tx, account.id, 'bootstrap', this.config.bootstrapApiKey);
      await tx.getRepository(SystemStateEntity).insert({
        key: BOOTSTRAP_STATE_KEY,
        value: { account_id: account.id, org_id: org.id, api_key_id: key.id },
      });
      return { accountId: account.id, orgId: org.id, keyId: key.id, secret: key.secret };
    });
    this.logger.info({ accountId, orgId, keyId }, 'created the bootstrap platform-admin account, organization and API key');
    if (!this.config.bootstrapApiKey) {
      const file = path.join(this.config.dataDir, BOOTSTRAP_KEY_FILE);
      ensureDirectory(this.config.dataDir);
      fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
      // Printed once, outside the JSON log stream, so the secret never lands in collected logs.
      process.stdout.write(
        `\nBootstrap API key for ${this.config.bootstrapAdminEmail} (shown once; also saved to ${file}):\n\n  ${secret}\n\n`,
      );
    }
  }
}
