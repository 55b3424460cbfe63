import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One `Idempotency-Key` of one caller (src/common/idempotency.ts): the request it was first used with
 * (fingerprint = SHA-256 of method, path and canonical JSON body) and, once that request finished, its
 * response (status + body, encrypted: create responses carry secrets such as SDK keys). Rows expire
 * 24 h after the first use; expired rows are reused and pruned.
 */
@Entity({ name: 'idempotency_keys' })
@Index('idempotency_keys_expires_at_idx', ['expiresAt'])
export class IdempotencyKeyEntity {
  /** Who used the key: "account:<id>" (personal keys) or "org_key:<id>" / "project_key:<id>". */
  @PrimaryColumn({ type: 'text' })
  caller!: string;

  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ type: 'text' })
  method!: string;

  @Column({ type: 'text' })
  path!: string;

  /** HTTP status of the stored response; null while the first request is still running. */
  @Column({ type: 'integer', nullable: true })
  status!: number | null;

  /** `{"body": …}` or `{"error": {"code", "message"}}`, encrypted with the secrets key; null while running. */
  @Column({ name: 'response_encrypted', type: 'text', nullable: true })
  responseEncrypted!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
