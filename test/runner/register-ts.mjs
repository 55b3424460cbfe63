// Loaded with `--import` by `npm run jest` (package.json): installs ./ts-hooks.mjs. jest-light-runner's worker threads
// inherit the flag and install them too. Processes a test starts (servers, neonctl) are spawned, not forked, so they
// run without it, as they would for a user.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
