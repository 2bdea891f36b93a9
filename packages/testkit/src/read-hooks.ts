import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';

/** Points of a stream read (an ordered consumer, as `readStreamRaw` makes it) a test acts at. */
export interface StreamReadHooks {
  /** The read's consumer exists and has asked for nothing yet. */
  readonly created?: () => Promise<void> | void;
  /**
   * The reader asked for its next message (a pull may have gone out) and waits; `delivered` is how
   * many messages it got before. Synchronous: it runs before the reader's wait begins.
   */
  readonly waiting?: (delivered: number) => void;
  /** A message arrived; the reader sees it once this resolves. `delivered` counts it. */
  readonly delivered?: (seq: number, delivered: number) => Promise<void> | void;
}

/**
 * `js` whose ordered-consumer reads of `stream` call `hooks`: a test freezes the server at an
 * exact point of a read (once the consumer exists, after the first message) or makes this process
 * busy while the reader waits, deterministically. Everything else (durable consumers, other
 * streams, publishes, stream info) is the real client, untouched.
 */
export function hookStreamReads(
  js: JetStreamClient,
  stream: string,
  hooks: StreamReadHooks,
): JetStreamClient {
  const consumers = new Proxy(js.consumers, {
    get(target, property, receiver) {
      if (property !== 'get') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<JetStreamClient['consumers']['get']>) => {
        const consumer = await target.get(...args);
        const [name, options] = args;
        if (name !== stream || typeof options === 'string') return consumer;
        await hooks.created?.();
        return new Proxy(consumer, {
          get(c, p, r) {
            if (p !== 'consume') return Reflect.get(c, p, r);
            return async (...consumeArgs: Parameters<typeof consumer.consume>) =>
              hooked(await c.consume(...consumeArgs), hooks);
          },
        });
      };
    },
  });
  return new Proxy(js, {
    get: (target, property, receiver) =>
      property === 'consumers' ? consumers : Reflect.get(target, property, receiver),
  });
}

/** `messages` whose iterator calls `hooks`; its other members (stop, close, status) are its own. */
function hooked(messages: ConsumerMessages, hooks: StreamReadHooks): ConsumerMessages {
  return new Proxy(messages, {
    get(target, property) {
      if (property === Symbol.asyncIterator) return () => iterate(target, hooks);
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function iterate(messages: ConsumerMessages, hooks: StreamReadHooks): AsyncIterator<JsMsg> {
  const inner = messages[Symbol.asyncIterator]();
  let delivered = 0;
  return {
    async next() {
      const next = inner.next();
      hooks.waiting?.(delivered);
      const result = await next;
      if (!result.done) {
        delivered++;
        await hooks.delivered?.(result.value.seq, delivered);
      }
      return result;
    },
    async return(value?: unknown) {
      return (await inner.return?.(value)) ?? { done: true, value: undefined };
    },
  };
}
