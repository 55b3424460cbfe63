import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Manual setup lets a person name any base URL, and the server calls it. Whatever answers there that is not a
 * Stack Auth server must not become readable through the API's error messages.
 */
describe('stack adapter: error bodies of non-Stack servers are not passed on', () => {
  let t: TestApp;
  let server: http.Server;
  let baseUrl: string;
  beforeAll(async () => {
    // The non-Stack server below listens on 127.0.0.1, which outgoing calls may only reach when the operator allows it.
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/stack-like/')) {
        res.writeHead(400, { 'content-type': 'text/plain', 'x-stack-request-id': 'r1' });
        res.end('Cannot do that with this project.');
        return;
      }
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('internal-secret-token=abc123');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t?.close();
  });

  const creds = (base: string) => ({ baseUrl: base, projectId: '00000000-0000-4000-8000-000000000001', secretServerKey: 'ssk_x' });

  it('a non-Stack body is withheld', async () => {
    const err = (await t.app.get(StackProviderAdapter).verifyConnection(creds(baseUrl)).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).not.toContain('internal-secret-token');
    expect(err.message).toContain('not a Stack Auth response');
  });

  it("a Stack Auth server's own error text is kept", async () => {
    const err = (await t.app.get(StackProviderAdapter).verifyConnection(creds(`${baseUrl}/stack-like`)).catch((e: Error) => e)) as Error;
    expect(err.message).toContain('Cannot do that with this project.');
  });
});
