// Baseline (a): the naive receiver of Neon's "Before Neon Auth" example on the product's HTTP stack
// (NestJS + Express): verify the svix signature on the raw body, run one INSERT ... ON CONFLICT per request
// on a pg Pool, answer 200 after it. No request logging. Env: PORT, DATABASE_URL, WEBHOOK_SECRET, POOL_SIZE.
import 'reflect-metadata';
import { Controller, HttpCode, HttpException, Module, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import pg from 'pg';
import { Webhook } from 'svix';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
const webhook = new Webhook(process.env.WEBHOOK_SECRET ?? '');

interface UserEvent {
  type: string;
  data: { id: string };
}

@Controller()
class WebhookController {
  @Post('webhook')
  @HttpCode(200)
  async receive(@Req() req: RawBodyRequest<Request>): Promise<void> {
    let event: UserEvent;
    try {
      event = webhook.verify(req.rawBody ?? Buffer.alloc(0), req.headers as Record<string, string>) as UserEvent;
    } catch {
      throw new HttpException('invalid signature', 401);
    }
    if (event.type === 'user.created' || event.type === 'user.updated') {
      await pool.query(
        `INSERT INTO neon_auth.users_sync (raw_json, updated_at) VALUES ($1::jsonb, now())
         ON CONFLICT (id) DO UPDATE SET raw_json = EXCLUDED.raw_json, updated_at = EXCLUDED.updated_at`,
        [JSON.stringify(event.data)],
      );
    } else if (event.type === 'user.deleted') {
      await pool.query('UPDATE neon_auth.users_sync SET deleted_at = now() WHERE id = $1', [event.data.id]);
    }
  }
}

@Module({ controllers: [WebhookController] })
class NaiveModule {}

const app = await NestFactory.create<NestExpressApplication>(NaiveModule, { rawBody: true, logger: false });
const server = await app.listen(Number(process.env.PORT), '127.0.0.1');
server.keepAliveTimeout = 5000;
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
