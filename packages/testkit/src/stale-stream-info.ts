import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';

/**
 * `js` whose stream info reports every stream's tail `behind` messages short (never below 0), as a
 * replica of an R3 stream that just restarted may answer (eventlog README; decision 0122). Everything
 * else, consumers and publishes included, is the real thing: a deterministic stand-in for a stale
 * replica on one server, for code that sizes a read by stream info.
 */
export function staleStreamInfo(js: JetStreamClient, behind: number): JetStreamClient {
  const stale = (jsm: JetStreamManager): JetStreamManager => {
    const streams = new Proxy(jsm.streams, {
      get(target, property, receiver) {
        if (property !== 'info') return Reflect.get(target, property, receiver);
        return async (...args: Parameters<JetStreamManager['streams']['info']>): Promise<StreamInfo> => {
          const info = await target.info(...args);
          return { ...info, state: { ...info.state, last_seq: Math.max(0, info.state.last_seq - behind) } };
        };
      },
    });
    return new Proxy(jsm, {
      get: (target, property, receiver) =>
        property === 'streams' ? streams : Reflect.get(target, property, receiver),
    });
  };
  return new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'jetstreamManager') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<JetStreamClient['jetstreamManager']>) =>
        stale(await target.jetstreamManager(...args));
    },
  });
}
