// `npm start` / `npm run worker` run this first: dist/ is rebuilt only when it was not built from exactly the
// sources of this checkout (a fingerprint of their contents, so a `git pull`, a checkout of an older commit or an
// edit is never run stale), and otherwise left alone (reading and hashing the sources takes a few tens of ms).
import fs from 'node:fs';
import path from 'node:path';
import { DIST, fingerprint } from './sources.mjs';

const stampFile = path.join(DIST, '.build-stamp');
const built = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
if (built !== fingerprint()) {
  const { build } = await import('./build.mjs');
  const { files, ms } = await build();
  process.stderr.write(`sources changed since the last build: rebuilt ${files} files into dist/ in ${ms} ms\n`);
}
