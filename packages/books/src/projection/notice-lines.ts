import type { ledger } from '@fundtrace/events';
import type { Batch } from './batch';

/**
 * NoticeLinesPublished → notice_lines: the proposed beneficiaries of a notice (公示名单), one row
 * per line. The notice must be in the books (its NoticePublished comes first in the same batch of
 * the writer) and still open; a household listed twice on one notice breaks the unique index, which
 * fails the batch like any other broken invariant.
 */
export function projectNoticeLines(batch: Batch, d: ledger.LedgerData<'NoticeLinesPublished'>): void {
  const notice = batch.stores.notices.get(d.noticeId);
  if (notice === undefined) batch.fail('entity_unknown', `notice ${d.noticeId} is not in the books`);
  if (notice.status === 'closed') batch.fail('transition_invalid', `notice ${d.noticeId} is closed`);
  if (d.part > d.partCount) batch.fail('transition_invalid', `part ${d.part} of ${d.partCount}`);
  for (const line of d.lines) {
    batch.append('notice_lines', {
      partition: batch.partition,
      notice_id: d.noticeId,
      line_no: line.line,
      household_id: line.householdId,
      member_nos: line.memberNos.join(','),
      quantity: line.quantity,
      amount_fen: line.amountFen,
      seq: batch.at.seqBig,
    });
  }
}
