export declare const TEST_TIMEOUT_MS: number;
export declare const LIMITED: unique symbol;
export declare function limited<F extends (...args: never[]) => unknown>(fn: F, timeout: number | undefined, what: string): (this: ThisParameterType<F>, ...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;
