/**
 * One command at a time per county: decisions are taken against the state the append then
 * extends, so two commands must never interleave between deciding and appending. A promise chain
 * is enough: JavaScript runs one callback at a time, the chain orders the async steps.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
