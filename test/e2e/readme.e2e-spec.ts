import fs from 'node:fs';
import { ENVIRONMENT_VARIABLES } from '../../src/config/config.js';

/** The README is the operator's manual: it must document every variable the server reads. */
describe('README', () => {
  const readme = fs.readFileSync('README.md', 'utf8');

  it.each(ENVIRONMENT_VARIABLES)('documents %s in the configuration table', (name) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });

  it('ENVIRONMENT_VARIABLES lists exactly the variables loadConfig reads', () => {
    const source = fs.readFileSync('src/config/config.ts', 'utf8');
    const read = new Set([...source.matchAll(/\b(?:str|int|url)\('([A-Z_]+)'/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual([...ENVIRONMENT_VARIABLES].sort());
  });

  it('gives the two setup commands and the test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
