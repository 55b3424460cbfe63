import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One-off facts about this installation, such as "the bootstrap admin exists". */
@Entity({ name: 'system_state' })
export class SystemStateEntity {
  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'jsonb' })
  value!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
