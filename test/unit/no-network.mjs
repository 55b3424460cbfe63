// Setup file of the unit tier (jest.unit.config.mjs): a unit spec runs without PostgreSQL or any other server,
// so opening a network connection is a mistake. It fails at once with a clear message instead of hanging on a
// connection attempt (or, worse, passing against a database someone left running).
import net from 'node:net';

net.Socket.prototype.connect = function refuseConnect() {
  throw new Error('unit specs must not open network connections (no database, no server): write an e2e spec instead');
};
