// Baseline (c): a bare route on the product's HTTP stack (NestJS + Express, default JSON body parser)
// answering 200: the ceiling of any one-event-per-request receiver. No request logging. Env: PORT.
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

@Controller()
class BareController {
  @Post('bare')
  @HttpCode(200)
  receive(): void {}
}

@Module({ controllers: [BareController] })
class BareModule {}

const app = await NestFactory.create<NestExpressApplication>(BareModule, { logger: false });
const server = await app.listen(Number(process.env.PORT), '127.0.0.1');
server.keepAliveTimeout = 5000;
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
