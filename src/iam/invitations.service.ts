import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors.js';
import { ApiError } from '../common/errors.js';
import { isoTime } from '../common/pagination.js';
import type { InvitationDto, MemberDto, OrganizationInvitationsResponseDto, OrganizationInviteCreateRequestDto } from './dto/organization.dto.js';
import { InvitationEntity } from './entities/invitation.entity.js';
import { MemberEntity } from './entities/member.entity.js';
import type { AccessContext, Principal } from './principal.js';

@Injectable()
export class InvitationsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Pending invitations of the organization, oldest first. */
  async list(access: AccessContext): Promise<OrganizationInvitationsResponseDto> {
    const invitations = await this.db.getRepository(InvitationEntity).find({
      where: { orgId: access.org!.id, acceptedAt: IsNull() },
      order: { invitedAt: 'ASC', id: 'ASC' },
    });
    return { invitations: invitations.map(invitationDto) };
  }

  /**
   * Invites each email with its role. Inviting an email that already has a pending invitation
   * updates its role; inviting an existing member is a 409. All or nothing.
   */
  async create(access: AccessContext, invites: OrganizationInviteCreateRequestDto[]): Promise<OrganizationInvitationsResponseDto> {
    const orgId = access.org!.id;
    const inviter = access.principal.kind === 'personal' ? access.principal.accountId : null;
    const emails = invites.map((i) => i.email.trim().toLowerCase());
    const dup = emails.find((e, i) => emails.indexOf(e) !== i);
    if (dup) throw ApiError.validation(`invalid request: [invitations] ${dup} is listed twice`);
    const created = await this.db.transaction(async (tx) => {
      const members: { email: string }[] = await tx.query(
        `SELECT a.email FROM organization_members m JOIN accounts a ON a.id = m.account_id
          WHERE m.org_id = $1 AND a.email = ANY($2::text[])`,
        [orgId, emails],
      );
      if (members.length > 0) {
        throw ApiError.conflict(`already a member of the organization: ${members.map((m) => m.email).join(', ')}`);
      }
      const out: InvitationEntity[] = [];
      for (const [i, invite] of invites.entries()) {
        const rows: InvitationEntity[] = await tx.query(
          `INSERT INTO organization_invitations (org_id, email, role, invited_by)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, email) WHERE accepted_at IS NULL
           DO UPDATE SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by, invited_at = now()
           RETURNING id, org_id AS "orgId", email, role, invited_by AS "invitedBy", invited_at AS "invitedAt"`,
          [orgId, emails[i], invite.role, inviter],
        );
        out.push(rows[0]);
      }
      return out;
    });
    return { invitations: created.map(invitationDto) };
  }

  /** The invitee (matched by the email of the personal key's account) joins with the invited role. */
  async accept(principal: Extract<Principal, { kind: 'personal' }>, invitationId: string): Promise<MemberDto> {
    return this.db.transaction(async (tx) => {
      const invitation = await tx
        .getRepository(InvitationEntity)
        .createQueryBuilder('i')
        .setLock('pessimistic_write')
        .where('i.id = :id', { id: invitationId })
        .getOne();
      // Someone else's invitation is not revealed.
      if (!invitation || invitation.email !== principal.email) throw ApiError.notFound(`invitation ${invitationId}`);
      if (invitation.acceptedAt) throw ApiError.conflict(`invitation ${invitationId} has already been accepted`);
      let member: MemberEntity;
      try {
        member = await tx.transaction((inner) =>
          inner.getRepository(MemberEntity).save(
            inner.getRepository(MemberEntity).create({ orgId: invitation.orgId, accountId: principal.accountId, role: invitation.role }),
          ),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw ApiError.conflict('you are already a member of this organization');
        throw err;
      }
      await tx
        .getRepository(InvitationEntity)
        .update({ id: invitation.id }, { acceptedAt: new Date(), acceptedBy: principal.accountId });
      return {
        id: member.id,
        user_id: member.accountId,
        org_id: member.orgId,
        role: member.role,
        joined_at: isoTime(member.joinedAt),
      };
    });
  }
}

function invitationDto(i: InvitationEntity): InvitationDto {
  return {
    id: i.id,
    email: i.email,
    org_id: i.orgId,
    invited_by: i.invitedBy ?? '',
    invited_at: isoTime(i.invitedAt),
    role: i.role,
  };
}
