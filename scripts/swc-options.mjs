// The one swc transform of the project, used by the build (scripts/build.mjs) and by Jest (jest.config.mjs): legacy
// decorators with their metadata (Nest's dependency injection, class-validator, TypeORM), class fields assigned
// rather than defined (so property decorators keep working), ES modules, ES2022.
export function swcOptions(sourceMaps) {
  return {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      target: 'es2022',
      keepClassNames: true,
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    },
    module: { type: 'es6' },
    sourceMaps,
  };
}
