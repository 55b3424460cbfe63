import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves /api/v2/auth for the bootstrap key', async () => {
    const res = await request(t.baseUrl).get('/api/v2/auth').set('Authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(res.body.auth_method).toBe('api_key_user');
  });

  it('401 without a key, in Neon error shape', async () => {
    const res = await request(t.baseUrl).get('/api/v2/auth').set('X-Request-ID', 'abc-123').expect(401);
    expect(res.body).toEqual({ request_id: 'abc-123', code: 'UNAUTHORIZED', message: expect.any(String) });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });
});
