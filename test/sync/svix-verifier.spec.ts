// The receiver's verifier (node:crypto HMAC) against the svix library's Webhook.verify: same outcome on
// every input, accepted or refused, with the same error message; except an empty key, which only ours refuses.
import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'svix';
import { SvixVerifier } from '../../src/sync/svix-verifier.js';

type Headers = Record<string, string>;

function outcome(fn: () => unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: fn() };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe('SvixVerifier agrees with svix Webhook.verify', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const other = `whsec_${randomBytes(24).toString('base64')}`;
  const library = new Webhook(secret);
  const ours = new SvixVerifier(secret);
  const body = JSON.stringify({ type: 'user.updated', data: { id: 'u1', display_name: 'Zoë ✓' } });
  const now = new Date();
  const seconds = (d: Date) => String(Math.floor(d.getTime() / 1000));
  const signedHeaders = (b: string | Buffer, at = now, id = 'msg_1', s = secret): Headers => ({
    'svix-id': id,
    'svix-timestamp': seconds(at),
    'svix-signature': new Webhook(s).sign(id, at, typeof b === 'string' ? b : b.toString()),
  });

  const cases: [string, Buffer, Headers][] = [
    ['a valid delivery', Buffer.from(body), signedHeaders(body)],
    ['webhook-* headers instead of svix-*', Buffer.from(body), Object.fromEntries(Object.entries(signedHeaders(body)).map(([k, v]) => [k.replace('svix-', 'webhook-'), v]))],
    ['upper-case header names', Buffer.from(body), Object.fromEntries(Object.entries(signedHeaders(body)).map(([k, v]) => [k.toUpperCase(), v]))],
    ['several signatures, the second valid', Buffer.from(body), { ...signedHeaders(body), 'svix-signature': `v1,${Buffer.alloc(32).toString('base64')} ${signedHeaders(body)['svix-signature']}` }],
    ['a v2 signature only', Buffer.from(body), { ...signedHeaders(body), 'svix-signature': signedHeaders(body)['svix-signature'].replace('v1,', 'v2,') }],
    ['a signature without a version', Buffer.from(body), { ...signedHeaders(body), 'svix-signature': signedHeaders(body)['svix-signature'].slice(3) }],
    ['a tampered body', Buffer.from(body.replace('u1', 'u2')), signedHeaders(body)],
    ['another secret', Buffer.from(body), signedHeaders(body, now, 'msg_1', other)],
    ['another message id', Buffer.from(body), { ...signedHeaders(body), 'svix-id': 'msg_2' }],
    ['a timestamp 6 minutes old', Buffer.from(body), signedHeaders(body, new Date(now.getTime() - 360_000))],
    ['a timestamp 6 minutes ahead', Buffer.from(body), signedHeaders(body, new Date(now.getTime() + 360_000))],
    ['a timestamp 4 minutes old', Buffer.from(body), signedHeaders(body, new Date(now.getTime() - 240_000))],
    ['a non-numeric timestamp', Buffer.from(body), { ...signedHeaders(body), 'svix-timestamp': 'soon' }],
    ['a timestamp with leading zeros and trailing text', Buffer.from(body), { ...signedHeaders(body), 'svix-timestamp': `00${seconds(now)}abc` }],
    ['no signature header', Buffer.from(body), { 'svix-id': 'msg_1', 'svix-timestamp': seconds(now) }],
    ['no id header', Buffer.from(body), { 'svix-timestamp': seconds(now), 'svix-signature': signedHeaders(body)['svix-signature'] }],
    ['an empty signature', Buffer.from(body), { ...signedHeaders(body), 'svix-signature': '' }],
    ['a signature of another length', Buffer.from(body), { ...signedHeaders(body), 'svix-signature': 'v1,AAAA' }],
    ['a signed body that is not JSON', Buffer.from('not json'), signedHeaders('not json')],
    ['bytes that are not UTF-8, signed as the library reads them', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), signedHeaders(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))],
  ];

  it.each(cases)('%s', (_name, raw, headers) => {
    const expected = outcome(() => library.verify(raw, headers));
    expect(outcome(() => ours.verify(raw, headers))).toEqual(expected);
  });

  it('accepts what it should and refuses what it should (the cases are not all one way)', () => {
    const accepted = cases.filter(([, raw, headers]) => 'ok' in outcome(() => ours.verify(raw, headers))).map(([name]) => name);
    expect(accepted).toEqual([
      'a valid delivery',
      'webhook-* headers instead of svix-*',
      'upper-case header names',
      'several signatures, the second valid',
      'a timestamp 4 minutes old',
      'a timestamp with leading zeros and trailing text',
      'bytes that are not UTF-8, signed as the library reads them',
    ]);
  });

  it.each(['whsec_', 'whsec_x', '', '===='])('an empty key (%j) refuses every delivery, even one signed with that key', (empty) => {
    const headers: Headers = {
      'svix-id': 'msg_1',
      'svix-timestamp': seconds(now),
      'svix-signature': `v1,${createHmac('sha256', Buffer.alloc(0)).update(`msg_1.${seconds(now)}.${body}`).digest('base64')}`,
    };
    // The library accepts it: anyone can sign with an empty key.
    expect(outcome(() => new Webhook('whsec_').verify(body, headers))).toEqual({ ok: JSON.parse(body) });
    expect(outcome(() => new SvixVerifier(empty).verify(Buffer.from(body), headers))).toEqual({ error: 'WebhookVerificationError: The signing secret is empty' });
  });

  it('a secret without the whsec_ prefix is the same key', () => {
    const bare = new SvixVerifier(secret.slice('whsec_'.length));
    expect(bare.verify(Buffer.from(body), signedHeaders(body))).toEqual(JSON.parse(body));
  });
});
