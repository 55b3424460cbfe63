// Which SMTP servers may take a login without TLS (smtp-sender.ts operatorAllowedServer): only those the operator
// allowed explicitly (OUTBOUND_ALLOWED_HOSTS by name, or by the addresses the server is at). A public server never
// may: its conversation requires STARTTLS before AUTH (nodemailer's requireTLS), so a stripped STARTTLS stops it.
import { operatorAllowedServer } from '../../src/better-auth/email/smtp-sender.js';
import { OutboundUrlPolicy } from '../../src/common/outbound-url-policy.js';

describe('SMTP login in clear text: operator-allowed servers only', () => {
  const policy = new OutboundUrlPolicy({ allow: [{ kind: 'host', name: 'relay.corp.internal' }, { kind: 'cidr', network: '10.20.0.0', prefix: 16 }] });

  it('a public address or a name resolving to public addresses: never', () => {
    expect(operatorAllowedServer(policy.checkTarget('smtp:', '203.0.113.9', 587), ['203.0.113.9'])).toBe(false);
    expect(operatorAllowedServer(policy.checkTarget('smtp:', '8.8.8.8', 587), ['8.8.8.8'])).toBe(false);
    expect(operatorAllowedServer(policy.checkTarget('smtp:', 'smtp.example.com', 587), ['93.184.216.34'])).toBe(false);
    // One public address among allowed ones is enough to refuse.
    expect(operatorAllowedServer(policy.checkTarget('smtp:', 'smtp.example.com', 587), ['10.20.0.5', '93.184.216.34'])).toBe(false);
  });

  it('a name or range the operator listed: yes', () => {
    expect(operatorAllowedServer(policy.checkTarget('smtp:', 'relay.corp.internal', 25), ['93.184.216.34'])).toBe(true);
    expect(operatorAllowedServer(policy.checkTarget('smtp:', '10.20.1.1', 25), ['10.20.1.1'])).toBe(true);
    expect(operatorAllowedServer(policy.checkTarget('smtp:', 'mail.example.com', 25), ['10.20.1.1'])).toBe(true);
  });

  it('a refused destination or nothing resolved: no', () => {
    expect(operatorAllowedServer(policy.checkTarget('smtp:', '169.254.169.254', 25), ['169.254.169.254'])).toBe(false);
    expect(operatorAllowedServer(policy.checkTarget('smtp:', 'mail.example.com', 25), [])).toBe(false);
  });
});
