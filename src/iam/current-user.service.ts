import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/errors.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { AuthDetailsResponseDto, CurrentUserInfoResponseDto } from './dto/user.dto.js';
import { AccountEntity } from './entities/account.entity.js';
import type { Principal } from './principal.js';

@Injectable()
export class CurrentUserService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  authDetails(principal: Principal): AuthDetailsResponseDto {
    switch (principal.kind) {
      case 'personal':
        return { account_id: principal.accountId, auth_method: 'api_key_user' };
      case 'organization':
        return { account_id: principal.orgId, auth_method: 'api_key_org' };
      case 'project':
        return { account_id: principal.orgId, auth_method: 'api_key_org', auth_data: principal.projectId };
    }
  }

  /** The person behind a personal key. Organization and project keys belong to no person -> 404. */
  async me(principal: Principal): Promise<CurrentUserInfoResponseDto> {
    if (principal.kind !== 'personal') {
      throw ApiError.notFound('user (organization and project API keys are not tied to a user)');
    }
    const account = await this.db.getRepository(AccountEntity).findOneBy({ id: principal.accountId });
    if (!account) throw ApiError.notFound('user');
    return {
      active_seconds_limit: 0,
      auth_accounts: [{ email: account.email, image: '', login: account.email, name: account.name, provider: 'api_key' }],
      email: account.email,
      id: account.id,
      image: '',
      login: account.email,
      name: account.name,
      last_name: '',
      projects_limit: this.config.projectsLimit,
      branches_limit: this.config.branchesLimit,
      max_autoscaling_limit: 0,
      plan: 'free',
    };
  }
}
