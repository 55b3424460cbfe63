/**
 * Runs tasks that share a key one after another (in this process), tasks with different keys in parallel. Used for
 * read-modify-writes a provider cannot make atomic: role changes of one user (the stack adapter's setUserRoles
 * rewrites `server_metadata`, and the users_sync row written after it must follow the provider's order), and the
 * settings of one Stack project (ClusterLocks adds the lock across replicas).
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or waiting (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
