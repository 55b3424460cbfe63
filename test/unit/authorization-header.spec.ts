import { authorizationHeaderProblem } from '../../src/iam/access.guard.js';

describe('authorizationHeaderProblem (the 401 says why)', () => {
  it.each([
    ['Bearer napi_abc', undefined],
    ['bearer napi_abc', undefined],
    ['Bearer   napi_abc  ', undefined],
    ['Bearer Bearer napi_abc', 'says "Bearer" twice'],
    ['bearer BEARER napi_abc', 'says "Bearer" twice'],
    ['Bearer Bearer', 'says "Bearer" twice'],
    ['napi_abc', 'must be "Bearer <key>" (it starts with "napi_abc")'],
    ['Basic dXNlcjpwYXNz', 'must be "Bearer <key>" (it starts with "Basic")'],
    ['', 'must be "Bearer <key>"'],
    ['Bearer', 'no key after "Bearer"'],
    ['Bearer napi_a napi_b', 'contains spaces'],
  ])('%j', (header, problem) => {
    const found = authorizationHeaderProblem(header);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
