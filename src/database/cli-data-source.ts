/**
 * DataSource for the TypeORM CLI (`npm run migration:generate -- migrations/Name`), read from DATABASE_URL.
 * Never used by the server itself.
 */
import 'reflect-metadata';
import { createControlPlaneDataSource } from './data-source.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to a scratch database to generate migrations');

export default createControlPlaneDataSource(url);
