import { ensureDirectory } from './data-dir.js';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, parseSecretsKey, type AppConfig } from '../config/config.js';
import { LOGGER } from './logger.js';

/** File under DATA_DIR holding the generated key when SECRETS_KEY is unset. */
export const SECRETS_KEY_FILE = 'secrets-key';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts secrets the server must read back later (role passwords, provider admin keys, webhook
 * secrets) with AES-256-GCM. Ciphertexts look like `v1.<iv>.<tag>.<data>` (base64url parts).
 *
 * An optional `context` (e.g. the name of the role a password belongs to) is bound as additional
 * authenticated data, so a ciphertext copied to another row fails to decrypt instead of being used.
 *
 * The key is SECRETS_KEY (32 bytes, hex or base64); when that is unset, a key is generated once and
 * kept in `<DATA_DIR>/secrets-key` (mode 0600). Replicas must then share SECRETS_KEY instead.
 */
@Injectable()
export class SecretsService implements OnModuleInit {
  private key?: Buffer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.loadKey();
  }

  encrypt(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.loadKey(), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  decrypt(ciphertext: string, context = ''): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('secret has an unknown format');
    const [iv, tag, data] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('secret has an unknown format');
    const decipher = createDecipheriv(ALGORITHM, this.loadKey(), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('secret cannot be decrypted: wrong SECRETS_KEY, or the value was tampered with');
    }
  }

  /**
   * A secret derived from the secrets key for one purpose (HMAC-SHA256, hex): every replica sharing the
   * key derives the same value, and values for different purposes are unrelated.
   */
  derive(purpose: string): string {
    return createHmac('sha256', this.loadKey()).update(purpose, 'utf8').digest('hex');
  }

  private loadKey(): Buffer {
    if (this.key) return this.key;
    if (this.config.secretsKey !== undefined) {
      const key = parseSecretsKey(this.config.secretsKey);
      if (!key) throw new Error('SECRETS_KEY must be 32 bytes, written as 64 hex characters or base64');
      this.key = key;
      return key;
    }
    const file = path.join(this.config.dataDir, SECRETS_KEY_FILE);
    ensureDirectory(this.config.dataDir);
    let generated = false;
    if (!fs.existsSync(file)) {
      // Written whole to a private temp file, then linked into place: link() fails if the file exists, so
      // two processes sharing DATA_DIR end up with one key, and neither ever reads a half-written file.
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      fs.writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      try {
        fs.linkSync(tmp, file);
        generated = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    const key = parseSecretsKey(fs.readFileSync(file, 'utf8').trim());
    if (!key) throw new Error(`${file} does not hold a 32-byte key (64 hex characters); fix or remove it, or set SECRETS_KEY`);
    this.logger.warn(
      { file },
      `SECRETS_KEY is unset: ${generated ? 'generated' : 'using'} the secrets key in ${file}. ` +
        'Replicas must share one key: set SECRETS_KEY to the same value on every replica.',
    );
    this.key = key;
    return key;
  }
}
