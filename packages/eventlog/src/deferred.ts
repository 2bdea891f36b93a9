/**
 * The end of a long-running loop, settled from outside it: `promise` resolves when the loop is
 * stopped and rejects with the error that stopped it. A rejection nobody awaits yet is not an
 * unhandled rejection (callers await `done` when they choose). Node 20 has no Promise.withResolvers.
 */
export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

export function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
