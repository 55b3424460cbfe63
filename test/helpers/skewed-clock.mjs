// Test-only preload (`NODE_OPTIONS=--import <this file>`): shifts this process's clock by TEST_CLOCK_SKEW_MS
// milliseconds (negative: behind), as a server whose host clock disagrees with the database's would see it.
// `Date.now()` and `new Date()` move; dates built from a value (`new Date(ms)`, `new Date(iso)`) do not, and
// timers (setTimeout, performance.now) are untouched. The database's clock is not affected.
const skew = Number(process.env.TEST_CLOCK_SKEW_MS ?? 0);
if (!Number.isFinite(skew)) throw new Error(`TEST_CLOCK_SKEW_MS must be a number of milliseconds (got ${process.env.TEST_CLOCK_SKEW_MS})`);

const RealDate = globalThis.Date;

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }

  static now() {
    return RealDate.now() + skew;
  }
}

// Called without `new`, Date() answers the current time as a string.
globalThis.Date = new Proxy(SkewedDate, {
  apply: () => new SkewedDate().toString(),
});
