import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Access, Policy } from '../iam/policy.js';
import { ConsoleAssets, type ConsoleAsset } from './console-assets.js';

/**
 * The console (console/, bundled at build time): one page and its two assets, public like Swagger UI (they hold no
 * data; everything the page shows comes from /api/v2 with the signed-in key). Not part of the API document. Served
 * with the console's Content-Security-Policy (src/common/security-headers.ts).
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get()
  @Access(Policy.Public)
  page(@Req() req: Request, @Res() res: Response): void {
    send(req, res, this.assets.get('index.html'));
  }

  @Get('assets/:name')
  @Access(Policy.Public)
  asset(@Param('name') name: string, @Req() req: Request, @Res() res: Response): void {
    send(req, res, this.assets.get(name));
  }
}

/** The asset, or 304 when the browser holds this very content (it revalidates every time: `no-cache`). */
function send(req: Request, res: Response, asset: ConsoleAsset): void {
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', asset.etag);
  if (req.headers['if-none-match'] === asset.etag) {
    res.status(304).end();
    return;
  }
  res.status(200).type(asset.contentType).send(asset.body);
}
