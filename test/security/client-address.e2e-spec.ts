import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * X-Forwarded-For is believed only from the proxies the operator names (TRUST_PROXY). By default the client
 * address is the TCP peer's, so a caller cannot write any address it likes into an API key's last_used_from_addr
 * (or, later, into audit records and rate-limit keys).
 */
describe('the client address without TRUST_PROXY', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a forged X-Forwarded-For from loopback is not the recorded address', async () => {
    await request(t.baseUrl).get('/api/v2/users/me').set({ Authorization: `Bearer ${t.adminKey}`, 'X-Forwarded-For': '203.0.113.9' }).expect(200);
    const keys = await request(t.baseUrl).get('/api/v2/api_keys').set({ Authorization: `Bearer ${t.adminKey}` }).expect(200);
    const addresses = (keys.body as { last_used_from_addr: string }[]).map((k) => k.last_used_from_addr);
    expect(addresses).not.toContain('203.0.113.9');
    expect(addresses.some((a) => /127\.0\.0\.1|::1/.test(a))).toBe(true);
  });
});
