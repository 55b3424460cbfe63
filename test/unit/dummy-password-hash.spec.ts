// A sign-in for a user without a usable password hash is compared with DUMMY_HASH, so that it takes as long as a
// wrong password: the constant must be a well-formed bcrypt hash (a malformed one fails at once, which is faster) at
// the cost real hashes are made with.
import { verify } from '@node-rs/bcrypt';
import { BCRYPT_ROUNDS, bcryptCost, DUMMY_HASH } from '../../src/stack-auth/users/stack-users.service.js';

describe('the dummy password hash', () => {
  it('is a bcrypt hash at the cost of the hashes the provider makes', async () => {
    expect(bcryptCost(DUMMY_HASH)).toBe(BCRYPT_ROUNDS);
    // Version, cost, 22 characters of salt and 31 of hash in bcrypt's base64 (@node-rs/bcrypt answers false, rather
    // than failing, for a malformed hash: the shape is checked here).
    expect(DUMMY_HASH).toMatch(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/);
    await expect(verify('not-a-real-password', DUMMY_HASH)).resolves.toBe(false);
    await expect(verify('', DUMMY_HASH)).resolves.toBe(false);
  });
});
