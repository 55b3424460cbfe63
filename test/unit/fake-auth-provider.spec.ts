import {
  iterateProviderUsers,
  ProviderAuthFailed,
  ProviderDuplicateEmail,
  ProviderNotSupported,
  ProviderTransferNotAllowed,
  ProviderUnavailable,
  ProviderUserNotFound,
  type ProviderCredentials,
} from '../../src/providers/auth-provider.port.js';
import { FAKE_CREDENTIALS, FAKE_NOW_MILLIS, FakeAuthProvider } from './fakes/fake-auth-provider.js';

/** The fake keeps the port's contract, so specs built on it test the callers, not the fake's shortcuts. */
describe('FakeAuthProvider keeps the AuthProvider contract', () => {
  const creds: ProviderCredentials = { ...FAKE_CREDENTIALS };

  it('creates Stack-shaped users whose sign-up time is the fake clock', async () => {
    const fake = new FakeAuthProvider();
    const user = await fake.createUser(creds, { email: 'Ada@Example.com', name: 'Ada' });
    expect(user).toEqual({
      id: 'user-0001',
      email: 'ada@example.com',
      name: 'Ada',
      createdAt: new Date(FAKE_NOW_MILLIS),
      roles: [],
      raw: expect.objectContaining({ id: 'user-0001', primary_email: 'ada@example.com', display_name: 'Ada', signed_up_at_millis: FAKE_NOW_MILLIS }),
    });
    expect((await fake.getUser(creds, user.id)).email).toBe('ada@example.com');
  });

  it('refuses a second live user with the same email, but not after the first was deleted', async () => {
    const fake = new FakeAuthProvider();
    const first = await fake.createUser(creds, { email: 'a@x.io' });
    await expect(fake.createUser(creds, { email: 'A@x.io' })).rejects.toBeInstanceOf(ProviderDuplicateEmail);
    await fake.deleteUser(creds, first.id);
    await expect(fake.createUser(creds, { email: 'a@x.io' })).resolves.toMatchObject({ email: 'a@x.io' });
  });

  it('answers ProviderUserNotFound for unknown and deleted users, deleteUser included', async () => {
    const fake = new FakeAuthProvider();
    const user = fake.seedUser({ email: 'b@x.io' });
    await fake.deleteUser(creds, user.id);
    await expect(fake.deleteUser(creds, user.id)).rejects.toEqual(new ProviderUserNotFound(user.id));
    await expect(fake.getUser(creds, 'nobody')).rejects.toBeInstanceOf(ProviderUserNotFound);
    await expect(fake.setUserRoles(creds, 'nobody', ['x'])).rejects.toBeInstanceOf(ProviderUserNotFound);
  });

  it('stores roles normalized in server_metadata.roles, keeping the other keys', async () => {
    const fake = new FakeAuthProvider();
    const user = fake.seedUser({ email: 'c@x.io', roles: ['old'] });
    const after = await fake.setUserRoles(creds, user.id, [' admin ', 'admin', 'viewer', '']);
    expect(after.roles).toEqual(['admin', 'viewer']);
    expect(after.raw.server_metadata).toEqual({ roles: ['admin', 'viewer'] });
  });

  it('pages users in a stable order and iterateProviderUsers reads them all', async () => {
    const fake = new FakeAuthProvider();
    for (let i = 0; i < 5; i++) fake.seedUser({ email: `u${i}@x.io`, signedUpAtMillis: 1000 + i });
    const first = await fake.listUsers(creds, { limit: 2 });
    expect(first.users.map((u) => u.email)).toEqual(['u0@x.io', 'u1@x.io']);
    expect(first.nextCursor).not.toBeNull();
    const emails: (string | null)[] = [];
    for await (const u of iterateProviderUsers(fake, creds, 2)) emails.push(u.email);
    expect(emails).toEqual(['u0@x.io', 'u1@x.io', 'u2@x.io', 'u3@x.io', 'u4@x.io']);
  });

  it('needs the admin key for admin operations and the server key for user operations', async () => {
    const fake = new FakeAuthProvider();
    await expect(fake.createSdkKeys({ ...creds, superSecretAdminKey: undefined })).rejects.toBeInstanceOf(ProviderAuthFailed);
    await expect(fake.createUser({ ...creds, secretServerKey: undefined }, { email: 'd@x.io' })).rejects.toBeInstanceOf(ProviderAuthFailed);
    await expect(fake.verifyConnection({ ...creds, projectId: 'unknown' })).rejects.toBeInstanceOf(ProviderAuthFailed);
    await expect(fake.verifyConnection(creds)).resolves.toBeUndefined();
  });

  it('refuses what its capabilities exclude, and a second transfer after one finished', async () => {
    const limited = new FakeAuthProvider({ kind: 'stack', capabilities: { sdkKeys: false, ownershipTransfer: false, managedProjects: false } });
    await expect(limited.createSdkKeys(creds)).rejects.toEqual(new ProviderNotSupported('stack'));
    await expect(limited.startOwnershipTransfer(creds)).rejects.toBeInstanceOf(ProviderNotSupported);
    await expect(limited.provisionManagedProject({ displayName: 'x' })).rejects.toBeInstanceOf(ProviderNotSupported);

    const fake = new FakeAuthProvider();
    expect(await fake.ownershipTransferStatus(creds)).toBe('none');
    await fake.startOwnershipTransfer(creds);
    expect(await fake.ownershipTransferStatus(creds)).toBe('initiated');
    fake.confirmOwnershipTransfer();
    expect(await fake.ownershipTransferStatus(creds)).toBe('finished');
    await expect(fake.startOwnershipTransfer(creds)).rejects.toBeInstanceOf(ProviderTransferNotAllowed);
  });

  it('provisions projects whose keys work, and deleting one is idempotent and removes its users', async () => {
    const fake = new FakeAuthProvider();
    const made = await fake.provisionManagedProject({ displayName: 'app' });
    const user = await fake.createUser(made.credentials, { email: 'e@x.io' });
    expect(fake.liveUserIds(made.providerProjectId)).toEqual([user.id]);
    await fake.deleteManagedProject(made.credentials);
    await fake.deleteManagedProject(made.credentials);
    await expect(fake.getUser(made.credentials, user.id)).rejects.toBeInstanceOf(ProviderAuthFailed);
    expect(fake.liveUserIds(made.providerProjectId)).toEqual([]);
  });

  it('fails the chosen method the chosen number of times, before any effect, and records every call', async () => {
    const fake = new FakeAuthProvider();
    const outage = new ProviderUnavailable('down', { status: 503 });
    fake.failOn('createUser', outage, 2).failOn('getUser', new Error('plain failure'));
    await expect(fake.createUser(creds, { email: 'f@x.io' })).rejects.toBe(outage);
    await expect(fake.createUser(creds, { email: 'f@x.io' })).rejects.toBe(outage);
    expect(fake.liveUserIds()).toEqual([]);
    const user = await fake.createUser(creds, { email: 'f@x.io' });
    await expect(fake.getUser(creds, user.id)).rejects.toThrow('plain failure');
    await expect(fake.getUser(creds, user.id)).resolves.toMatchObject({ id: user.id });

    expect(fake.methodsCalled()).toEqual(['createUser', 'createUser', 'createUser', 'getUser', 'getUser']);
    expect(fake.callsOf('createUser')).toEqual([
      [creds, { email: 'f@x.io' }],
      [creds, { email: 'f@x.io' }],
      [creds, { email: 'f@x.io' }],
    ]);
    expect(fake.callsOf('getUser')[1]).toEqual([creds, user.id]);
  });

  it('fails every call with times = Infinity until the failures are cleared', async () => {
    const fake = new FakeAuthProvider();
    fake.failOn('verifyConnection', new ProviderAuthFailed('no'), Infinity);
    for (let i = 0; i < 3; i++) await expect(fake.verifyConnection(creds)).rejects.toBeInstanceOf(ProviderAuthFailed);
    fake.clearFailures();
    await expect(fake.verifyConnection(creds)).resolves.toBeUndefined();
  });
});
