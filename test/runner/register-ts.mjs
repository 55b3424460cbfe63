// Loaded with `--import` in each test worker (jest.config.mjs puts it in NODE_OPTIONS): installs ./ts-hooks.mjs,
// then takes itself out of NODE_OPTIONS so that the processes a test starts (servers, neonctl) run as they would
// for a user.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);

const self = `--import=${new URL(import.meta.url).pathname}`;
process.env.NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '')
  .split(' ')
  .filter((option) => option !== self)
  .join(' ');
if (process.env.NODE_OPTIONS === '') delete process.env.NODE_OPTIONS;
