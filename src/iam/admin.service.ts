import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccountsService } from './accounts.service.js';
import { ApiKeysService } from './api-keys.service.js';
import type { AdminAccountCreateRequestDto, AdminAccountCreateResponseDto } from './dto/user.dto.js';

/** Platform-admin operations that Neon performs in its console. */
@Injectable()
export class AdminService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /** Creates an account and its first personal API key, atomically. */
  async createAccount(input: AdminAccountCreateRequestDto): Promise<AdminAccountCreateResponseDto> {
    return this.db.transaction(async (tx) => {
      const account = await this.accounts.create(tx, { email: input.email, name: input.name });
      const key = await this.apiKeys.createPersonalKey(tx, account.id, 'default');
      return {
        account: { id: account.id, email: account.email, name: account.name },
        api_key: { id: key.id, key: key.secret },
      };
    });
  }
}
