import { authorizationHeaderProblem } from '../../src/iam/access.guard.js';

describe('authorizationHeaderProblem (the 401 says why)', () => {
  it.each([
    ['Bearer napi_abc', undefined],
    ['bearer napi_abc', undefined],
    ['  Bearer napi_abc  ', undefined],
    ['Bearer  napi_abc', 'exactly one space'],
    ['Bearer\tnapi_abc', 'exactly one space'],
    ['Bearer Bearer napi_abc', 'says "Bearer" twice'],
    ['bearer BEARER napi_abc', 'says "Bearer" twice'],
    ['Bearer Bearer', 'says "Bearer" twice'],
    ['napi_abc', 'must be "Bearer <key>"'],
    ['napi_abc def', 'must be "Bearer <key>"'],
    ['Basic dXNlcjpwYXNz', 'must be "Bearer <key>" (it starts with "Basic")'],
    ['', 'must be "Bearer <key>"'],
    ['Bearer', 'no key after "Bearer"'],
    ['Bearer napi_a napi_b', 'contains spaces'],
  ])('%j', (header, problem) => {
    const found = authorizationHeaderProblem(header);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
    // Nothing of a key is echoed back.
    expect(found ?? '').not.toMatch(/napi_[a-z]/);
  });
});
