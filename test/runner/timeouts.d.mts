export declare const TEST_TIMEOUT_MS: number;
export declare const LIMITED: unique symbol;
type Fn = (...args: never[]) => unknown;
export declare function limited<F extends Fn>(fn: F, timeout: number | undefined, what: string): (this: ThisParameterType<F>, ...args: unknown[]) => Promise<unknown>;
export declare function limitedTest<F extends Fn>(fn: F, timeout: number | undefined): (this: ThisParameterType<F>, ...args: unknown[]) => Promise<void>;
export declare function limitTests<T extends jest.It>(original: T): T;
export declare function limitHook<T extends jest.Lifecycle>(original: T): T;
