import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors.js';
import { ApiError } from '../common/errors.js';
import { AccountEntity } from './entities/account.entity.js';

export interface NewAccount {
  email: string;
  name: string;
  isPlatformAdmin?: boolean;
}

@Injectable()
export class AccountsService {
  /** Creates an account; the email is unique (case-insensitive) -> 409 when taken. */
  async create(tx: EntityManager, input: NewAccount): Promise<AccountEntity> {
    const repo = tx.getRepository(AccountEntity);
    const account = repo.create({
      email: input.email.trim().toLowerCase(),
      name: input.name.trim(),
      isPlatformAdmin: input.isPlatformAdmin ?? false,
    });
    try {
      // A savepoint keeps the caller's transaction usable when the insert fails.
      return await tx.transaction((inner) => inner.getRepository(AccountEntity).save(account));
    } catch (err) {
      if (isUniqueViolation(err)) throw ApiError.conflict(`an account with email ${account.email} already exists`);
      throw err;
    }
  }
}
