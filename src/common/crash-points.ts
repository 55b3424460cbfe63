import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

/**
 * Named steps of durable work at which a test can kill the process (NEON_TEST_CRASH_AT, honoured only when
 * NODE_ENV=test): the recovery tests SIGKILL the server at each step of each operation and check what the restart
 * makes of it. Outside tests `reach` does nothing.
 */
@Injectable()
export class CrashPoints {
  private readonly at: string | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.at = config.testCrashAt;
  }

  /** Dies here, at once and without any clean-up, when this is the configured crash point. */
  reach(name: string): void {
    if (this.at !== name) return;
    process.kill(process.pid, 'SIGKILL');
    // The signal is delivered before the kernel returns to this process; never run a statement past this point.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
}
