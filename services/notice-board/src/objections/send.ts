import { randomUUID } from 'node:crypto';
import { signToken } from '@fundtrace/service-kit';

/**
 * Objections are commands to the ledger's writer: the board never appends to NATS itself. It
 * calls ledger-api's FileObjection route with a short-lived token of a system user in the
 * `finance` role, scoped to the notice's county only.
 */

/** A token lives just long enough for one request and its retries. */
export const serviceTokenTtlSeconds = 120;
/** How long the board waits for ledger-api before telling the reader to try again. */
export const ledgerRequestTimeoutMs = 10_000;

export const boardUserId = 'notice-board';

export interface ObjectionCommand {
  readonly partition: string;
  readonly noticeId: string;
  readonly householdId: string | null;
  readonly summary: string;
  readonly filedOn: string;
}

/** What the reader is told depends only on this, never on who the objection is about. */
export type SendOutcome =
  | { readonly kind: 'filed'; readonly objectionId: string }
  | { readonly kind: 'closed' }
  | { readonly kind: 'unavailable'; readonly reason: string };

export type ObjectionSender = (command: ObjectionCommand) => Promise<SendOutcome>;

export function ledgerObjectionSender(options: {
  readonly ledgerApiUrl: string;
  readonly jwtSecret: string;
  readonly fetch?: typeof fetch;
  readonly newId?: () => string;
}): ObjectionSender {
  const doFetch = options.fetch ?? fetch;
  const newId = options.newId ?? (() => randomUUID());
  return async (command) => {
    const id = newId();
    // One id for the objection and the command: a retry of this request is the same command.
    const objectionId = `obj-${id}`;
    const token = await signToken(
      options.jwtSecret,
      { sub: boardUserId, role: 'finance', org: '扶贫资金公示栏', partitions: [command.partition] },
      serviceTokenTtlSeconds,
    );
    let response: Response;
    try {
      response = await doFetch(`${options.ledgerApiUrl}/v1/partitions/${command.partition}/objections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          commandId: `nb-${id}`,
          objectionId,
          noticeId: command.noticeId,
          householdId: command.householdId,
          summary: command.summary,
          channel: 'notice_board',
          filedOn: command.filedOn,
        }),
        signal: AbortSignal.timeout(ledgerRequestTimeoutMs),
      });
    } catch (error) {
      return { kind: 'unavailable', reason: (error as Error).message };
    }
    if (response.status === 200 || response.status === 201) return { kind: 'filed', objectionId };
    const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
    const code = body?.error?.code ?? `http_${response.status}`;
    if (code === 'notice_closed') return { kind: 'closed' };
    return { kind: 'unavailable', reason: code };
  };
}
