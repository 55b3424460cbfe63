import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiError, ErrorCode } from '../common/errors.js';
import { isoTime, keysetPage } from '../common/pagination.js';
import type { ListMembersQueryDto, MemberDto, OrganizationMembersResponseDto } from './dto/organization.dto.js';
import { MemberEntity, type OrgRole } from './entities/member.entity.js';
import type { AccessContext } from './principal.js';

const SORT_EXPRESSIONS = { joined_at: 'm.joined_at', email: 'a.email', role: 'm.role' } as const;

interface MemberRow extends Record<string, unknown> {
  id: string;
  account_id: string;
  org_id: string;
  role: OrgRole;
  joined_at: Date;
  email: string;
}

@Injectable()
export class MembersService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(access: AccessContext, query: ListMembersQueryDto): Promise<OrganizationMembersResponseDto> {
    const sortBy = query.sort_by ?? 'joined_at';
    const order = query.sort_order ?? 'desc';
    const qb = this.db
      .getRepository(MemberEntity)
      .createQueryBuilder('m')
      .innerJoin('accounts', 'a', 'a.id = m.account_id')
      .select(['m.id AS id', 'm.account_id AS account_id', 'm.org_id AS org_id', 'm.role AS role', 'm.joined_at AS joined_at', 'a.email AS email'])
      .where('m.org_id = :orgId', { orgId: access.org!.id });
    const page = await keysetPage<MemberEntity, MemberRow>(qb, {
      sortExpr: SORT_EXPRESSIONS[sortBy],
      sortType: sortBy === 'joined_at' ? 'timestamptz' : 'text',
      idExpr: 'm.id',
      order,
      limit: query.limit,
      cursor: query.cursor,
    });
    return {
      members: page.rows.map((r) => ({ member: memberDto(r), user: { email: r.email } })),
      pagination: { ...(page.next ? { next: page.next } : {}), sort_by: sortBy, sort_order: order },
    };
  }

  async get(access: AccessContext, memberId: string): Promise<MemberDto> {
    const member = await this.find(this.db.manager, access.org!.id, memberId);
    return memberDto(member);
  }

  /** Changes a member's role; an organization always keeps at least one admin. */
  async updateRole(access: AccessContext, memberId: string, role: OrgRole): Promise<MemberDto> {
    return this.db.transaction(async (tx) => {
      const member = await this.find(tx, access.org!.id, memberId, true);
      if (member.role === 'admin' && role !== 'admin') await this.assertNotLastAdmin(tx, member.orgId);
      await tx.getRepository(MemberEntity).update({ id: member.id }, { role });
      return memberDto({ ...member, role });
    });
  }

  async remove(access: AccessContext, memberId: string): Promise<Record<string, never>> {
    await this.db.transaction(async (tx) => {
      const member = await this.find(tx, access.org!.id, memberId, true);
      if (member.role === 'admin') await this.assertNotLastAdmin(tx, member.orgId);
      await tx.getRepository(MemberEntity).delete({ id: member.id });
    });
    return {};
  }

  private async find(tx: EntityManager, orgId: string, memberId: string, lockOrg = false): Promise<MemberEntity> {
    if (lockOrg) {
      // Serialises role changes within one organization, so two demotions cannot both pass the last-admin check.
      await tx.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [orgId]);
    }
    const member = await tx.getRepository(MemberEntity).findOneBy({ id: memberId, orgId });
    if (!member) throw ApiError.notFound(`member ${memberId}`);
    return member;
  }

  private async assertNotLastAdmin(tx: EntityManager, orgId: string): Promise<void> {
    const admins = await tx.getRepository(MemberEntity).countBy({ orgId, role: 'admin' });
    if (admins <= 1) {
      throw new ApiError(ErrorCode.LastAdmin, 'an organization must keep at least one admin; promote another member first');
    }
  }
}

function memberDto(m: { id: string; orgId?: string; org_id?: string; accountId?: string; account_id?: string; role: OrgRole; joinedAt?: Date; joined_at?: Date }): MemberDto {
  const joined = m.joinedAt ?? m.joined_at;
  return {
    id: m.id,
    user_id: (m.accountId ?? m.account_id)!,
    org_id: (m.orgId ?? m.org_id)!,
    role: m.role,
    ...(joined ? { joined_at: isoTime(joined) } : {}),
  };
}
