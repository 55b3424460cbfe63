import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface NeonctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const NEONCTL = path.resolve('node_modules/.bin/neonctl');

/**
 * Runs the real `neonctl` (npm) as a child process against the test server, with analytics off and
 * a throwaway config dir, so nothing leaves the machine and nothing is read from the user's profile.
 */
export function neonctl(apiUrl: string, apiKey: string, args: string[], timeoutMs = 30000): Promise<NeonctlResult> {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'neonctl-'));
  return new Promise((resolve) => {
    execFile(
      NEONCTL,
      [...args, '--api-host', apiUrl, '--api-key', apiKey, '--no-analytics', '--config-dir', configDir],
      { timeout: timeoutMs, env: { ...process.env, NEON_API_KEY: '', CI: 'true', NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        fs.rmSync(configDir, { recursive: true, force: true });
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}
