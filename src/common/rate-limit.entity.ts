import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const RATE_LIMITS_TABLE = 'rate_limits';

/**
 * One rate-limit counter (src/common/rate-limit.ts), in the layout rate-limiter-flexible's RateLimiterPostgres
 * reads and writes: `key` is `<budget>:<subject>`, `points` the attempts counted in the current window, `expire`
 * the end of that window in epoch milliseconds. Kept in the control-plane database so that replicas share the
 * counts; the table is made by a migration (the library's own CREATE TABLE is switched off), and rows whose
 * window ended are pruned periodically.
 */
@Entity({ name: RATE_LIMITS_TABLE })
@Index('rate_limits_expire_idx', ['expire'])
export class RateLimitEntity {
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'rate_limits_pkey' })
  key!: string;

  @Column({ type: 'integer', default: 0 })
  points!: number;

  /** Epoch milliseconds (pg returns bigint as a string). */
  @Column({ type: 'bigint', nullable: true })
  expire!: string | null;
}
