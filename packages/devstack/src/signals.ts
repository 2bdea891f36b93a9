/**
 * How `npm start` answers SIGINT and SIGTERM. One Ctrl-C in a terminal reaches the whole
 * foreground process group (npm, sh, pnpm, tsx, node), and npm, pnpm and tsx each relay it to
 * their child as well: the script gets the signal two or three times within milliseconds. Taken
 * as "pressed twice", the copy made it exit at once, and its exit hook sent the services still
 * shutting down a second SIGTERM ("second signal: exiting immediately"), not the ordered stop
 * the README promises.
 */

/** Copies of one signal relayed by npm, pnpm and tsx arrive within this; a person pressing again, later. */
export const relayedSignalWindowMs = 2_000;

export type SignalAction = 'stop' | 'ignore' | 'force';

/**
 * The first signal stops everything in order; copies within `relayedSignalWindowMs` and any
 * SIGTERM after it are ignored; a SIGINT later than that (Ctrl-C pressed again) forces the exit.
 */
export function signalPolicy(now: () => number = Date.now): (signal: 'SIGINT' | 'SIGTERM') => SignalAction {
  let first: number | null = null;
  return (signal) => {
    const at = now();
    if (first === null) {
      first = at;
      return 'stop';
    }
    return signal === 'SIGINT' && at - first > relayedSignalWindowMs ? 'force' : 'ignore';
  };
}
