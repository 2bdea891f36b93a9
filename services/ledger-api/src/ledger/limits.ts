/**
 * Limits of the ledger write path. Each is a named constant with the reason for
 * its value; the HTTP schemas and the decider both use them.
 */

/**
 * Largest single household payment: 1,000,000 元. The largest standard in
 * DOMAIN.md is 易地扶贫搬迁 at 60,000 元 per person; a household of ten would get
 * 600,000 元. Anything larger is a typo (万元 typed as 元) or fraud.
 */
export const paymentAmountMaxFen = 100_000_000n;

/**
 * Largest quantity on one payment (persons, person-months, m² …). 100,000 m² is
 * 10 hectares of mushroom sheds, far above one operator; person-months of a
 * household stay in the hundreds.
 */
export const paymentQuantityMax = 100_000;

/**
 * Most rows in one roster (发放花名册). A whole county's monthly 低保 roster is in
 * the tens of thousands of rows; the issue asks for ≥ 50,000 in one request.
 * Twice that leaves headroom without letting one request hold the writer for long.
 */
export const rosterRowsMax = 100_000;

/**
 * Most rows in one bank result file (回盘) sent as one command. The bank answers one instruction
 * file, and an instruction file is at most a roster: the same bound, so a county's largest roster
 * comes back as one file and one command.
 */
export const bankResultRowsMax = rosterRowsMax;

/**
 * Tranches carried over per TranchesCarriedOver event at year close. Keeps each
 * event well under the stream's max message size (about 250 bytes per tranche).
 */
export const carryOverChunkMax = 500;
