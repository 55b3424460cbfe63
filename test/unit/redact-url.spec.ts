import { redactUrl } from '../../src/common/request-log.js';

describe('redactUrl (the request log)', () => {
  it.each([
    ['/api/v1/auth/oauth/token?grant_type=refresh_token&refresh_token=abc.def', '/api/v1/auth/oauth/token?grant_type=refresh_token&refresh_token=[redacted]'],
    ['/cb?code=4%2F0Ab&state=xyz&scope=email', '/cb?code=[redacted]&state=[redacted]&scope=email'],
    ['/authorize/google?client_id=p1&client_secret=pck_123&redirect_uri=https%3A%2F%2Fa', '/authorize/google?client_id=p1&client_secret=[redacted]&redirect_uri=https%3A%2F%2Fa'],
    ['/x?id_token=eyJ.a.b&access_token=t&api_key=k&password=p&x-amz-signature=s', '/x?id_token=[redacted]&access_token=[redacted]&api_key=[redacted]&password=[redacted]&x-amz-signature=[redacted]'],
    ['/x?Code_Verifier=v&otp=123456&token=t', '/x?Code_Verifier=[redacted]&otp=[redacted]&token=[redacted]'],
    ['/x?refresh%5Ftoken=t', '/x?refresh%5Ftoken=[redacted]'],
    ['/neon-auth/br-1/neondb/auth/reset-password/TOKEN123?callbackURL=%2Fdone', '/neon-auth/br-1/neondb/auth/reset-password/[redacted]?callbackURL=%2Fdone'],
    ['/api/v2/projects?limit=10&cursor=abc', '/api/v2/projects?limit=10&cursor=abc'],
    ['/api/v2/projects/p1/branches', '/api/v2/projects/p1/branches'],
    ['/x?flag&token=t#frag', '/x?flag&token=[redacted]'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
