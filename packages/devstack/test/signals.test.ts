import { describe, expect, it } from 'vitest';
import { relayedSignalWindowMs, signalPolicy } from '../src/signals';

// npm start's answer to signals. One Ctrl-C reached the script two or three times (the terminal's
// process group, then npm, pnpm and tsx relaying it): the copy was taken as a second press, the
// script exited at once and its exit hook sent the services still stopping a second SIGTERM.
describe('signalPolicy', () => {
  it('stops on the first signal and ignores the copies of one Ctrl-C relayed within the window', () => {
    let t = 1_000;
    const on = signalPolicy(() => t);
    expect(on('SIGINT')).toBe('stop');
    t += 5;
    expect(on('SIGINT')).toBe('ignore');
    expect(on('SIGTERM')).toBe('ignore');
    t += relayedSignalWindowMs - 5;
    expect(on('SIGINT')).toBe('ignore');
  });

  it('forces the exit on a Ctrl-C pressed again later, never on a SIGTERM', () => {
    let t = 0;
    const on = signalPolicy(() => t);
    expect(on('SIGTERM')).toBe('stop');
    t += relayedSignalWindowMs + 1;
    expect(on('SIGTERM')).toBe('ignore');
    expect(on('SIGINT')).toBe('force');
  });
});
