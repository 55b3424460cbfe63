// rawJsonProblem is what the receiver checks a user.created/user.updated object with when the signed body holds no
// \u0000 escape (instead of prepareRow, which serializes the object again): it must find what prepareRow finds.
import { prepareRow, rawJsonProblem } from '../../src/neon-auth/users-sync/users-sync.statements.js';

const bodies = [
  '{"id":"u1","display_name":"Ann","signed_up_at_millis":1767225600000}',
  '{"id":"u2","signed_up_at_millis":"1767225600000"}',
  '{"id":"u3","signed_up_at_millis":null}',
  '{"id":"u4","display_name":"a \\\\u0000 literal backslash, not a NUL"}',
  '{"id":""}',
  '{"id":42}',
  '{"display_name":"no id"}',
  `{"id":"${'x'.repeat(1025)}"}`,
  '{"id":"u5","signed_up_at_millis":1.5}',
  '{"id":"u6","signed_up_at_millis":"soon"}',
  '{"id":"u7","signed_up_at_millis":9000000000000000}',
  '[{"id":"u8"}]',
  'null',
  '"u9"',
];

describe('rawJsonProblem', () => {
  it.each(bodies)('finds what prepareRow finds in %s', (body) => {
    expect(body.includes('\\u0000') && !body.includes('\\\\u0000')).toBe(false);
    const raw = JSON.parse(body) as Record<string, unknown>;
    const prepared = prepareRow({ raw_json: raw, updated_at: new Date(0) });
    expect(rawJsonProblem(raw)).toBe('problem' in prepared ? prepared.problem : undefined);
  });

  it('leaves the NUL character to prepareRow (the receiver calls it when the body holds a \\u0000 escape)', () => {
    const raw = JSON.parse('{"id":"u10","display_name":"a\\u0000b"}') as Record<string, unknown>;
    expect(rawJsonProblem(raw)).toBeUndefined();
    expect(prepareRow({ raw_json: raw, updated_at: new Date(0) })).toEqual({ problem: expect.stringContaining('NUL') });
  });
});
