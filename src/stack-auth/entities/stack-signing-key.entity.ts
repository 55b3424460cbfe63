import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { StackProjectEntity } from './stack-project.entity.js';

/** A per-project ES256 (P-256) key that signs access tokens; the private half is encrypted at rest. */
@Entity({ name: 'signing_keys', schema: 'stack_auth' })
export class StackSigningKeyEntity {
  /** The JWT `kid`. */
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Index('stack_signing_keys_project_id_idx')
  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @ManyToOne(() => StackProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: StackProjectEntity;

  /** Public JWK (kty, crv, x, y). */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, string>;

  /** Private JWK as JSON, encrypted with the secrets key (bound to the kid). */
  @Column({ name: 'private_jwk_encrypted', type: 'text' })
  privateJwkEncrypted!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** A retired key no longer signs but stays in the JWKS until tokens it signed have expired. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
