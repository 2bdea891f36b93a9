import {
  canonicalBytes,
  createEvent,
  encodeEvent,
  ledger,
  messageId,
  newEventId,
  subjectFor,
} from '@fundtrace/events';
import type { OutgoingMessage } from '../../src';

/** The partition the eventlog tests write to (内乡县). */
export const partition = '411325';

/**
 * A real, encodable `AccountOpened` event as an outgoing message: canonical bytes
 * from @fundtrace/events, its subject under the test namespace, and the msg id
 * `<commandId>:<index>` a writer would give it.
 */
export function accountOpened(
  ns: string,
  commandId: string,
  index: number,
  name = `账户 ${index}`,
): OutgoingMessage {
  const event = createEvent(ledger.AccountOpened, {
    id: newEventId(Date.UTC(2019, 4, 6) + index),
    partition,
    occurredAt: '2019-05-06T09:00:00+08:00',
    recordedAt: '2019-05-06T01:00:00.000Z',
    actor: { userId: 'u-finance-1', role: 'finance', org: '内乡县财政局' },
    commandId,
    correlationId: `corr-${commandId}`,
    data: { accountId: `acc-${commandId}-${index}`, kind: 'pool', name },
  });
  return { subject: subjectFor(event, ns), bytes: encodeEvent(event), msgId: messageId(commandId, index) };
}

/** `count` events of one command. */
export function accountsOpened(ns: string, commandId: string, count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, index) => accountOpened(ns, commandId, index));
}

/**
 * Valid canonical JSON with a well-formed envelope whose type no catalogue knows:
 * what a newer release's event looks like to this one. Decoding must refuse it.
 */
export function unknownTypeMessage(ns: string, msgId: string): OutgoingMessage {
  const bytes = canonicalBytes({
    id: newEventId(Date.UTC(2019, 4, 7)),
    type: 'SomethingFromTheFuture',
    version: 1,
    partition,
    occurredAt: '2019-05-07T09:00:00+08:00',
    recordedAt: '2019-05-07T01:00:00.000Z',
    actor: { userId: 'u-finance-1', role: 'finance', org: '内乡县财政局' },
    commandId: 'cmd-future',
    correlationId: 'corr-future',
    data: { anything: 'at all' },
  });
  return { subject: `${ns}.ledger.${partition}.account.future`, bytes, msgId };
}

/** Polls `condition` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
