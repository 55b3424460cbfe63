// Sync engine reliability (issue 5): the branch database stopped during a burst of ~300 provider changes,
// then started -> the receiver kept answering 2xx, every row converges within seconds, nothing dead or lost.
// With the product's default retry budget (SYNC_MAX_ATTEMPTS=10): attempts are counted per retry (with
// backoff), not per delivery that arrives during the outage.
import { describeOutage } from './reliability-helpers.js';

describeOutage('sync reliability: branch database stopped during a burst, then started', 10);
