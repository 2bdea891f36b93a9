import { ledger } from '@fundtrace/events';

/**
 * What one objection may carry. The summary ends up in an ObjectionFiled event, whose text field
 * holds at most ledgerTextLengthMax characters; a longer complaint belongs on paper at the
 * village committee, not in a form.
 */
export const objectionSummaryCharsMax = ledger.ledgerTextLengthMax;

/**
 * Largest form body accepted: the summary in UTF-8 (3 bytes a character), percent-encoded (×3),
 * plus the line number; anything bigger is refused before it is parsed.
 */
export const objectionBodyBytesMax = 8 * 1024;
