import { eventBytesMax } from '@fundtrace/events';

/**
 * Every limit of the event log, in one place, each with the reason for its value.
 * Units come last in the name (TIGER_STYLE: "put a limit on everything").
 */

/**
 * How long JetStream remembers a `Nats-Msg-Id` to drop a repeat. Ten minutes covers
 * a client's own retries after a timeout or a reconnect (seconds to a few minutes);
 * repeats older than that are caught by the writer's idempotency map, which lives in
 * its state and never expires. A longer window costs server memory per message id.
 */
export const duplicateWindowMs = 10 * 60 * 1000;

/**
 * Room for the headers of one stored message: `Nats-Msg-Id` (a command id of at
 * most 128 characters plus `:<index>`) and the expectation headers the append adds
 * (`Nats-Expected-*`, a previous message id). 4 KiB is several times what they take.
 */
export const headerBytesAllowance = 4 * 1024;

/**
 * The largest stored message (payload plus headers) a stream accepts: the largest
 * event @fundtrace/events will encode plus its headers. It stays under
 * nats-server's default `max_payload` (1 MiB), so an oversize message is refused by
 * the stream for that one message (error 10054) rather than by the connection.
 */
export const messageBytesMax = eventBytesMax + headerBytesAllowance;

/**
 * How many appends of one pipelined batch may be on the wire without an ack. Large
 * enough that a 10,000-payment roster is a burst, not 10,000 round trips; small
 * enough that a batch cut short early wastes little and the client buffer stays
 * small (256 × 512 KiB worst case is 128 MiB, typical events are ~1 KiB).
 */
export const appendInFlightMax = 256;

/**
 * How long one append waits for its ack. Past this the outcome is unknown (the
 * message may or may not be stored) and the caller must look at the stream tail.
 * It is generous because a pipelined burst queues behind the server's disk writes.
 */
export const appendAckTimeoutMs = 10_000;

/**
 * How long an append keeps sending a message again that the server answered "no responders"
 * (nothing listens on its subject, so nothing stored it) before giving up. A stream that exists
 * answers so while it has no leader: in an R3 cluster for the moment of a leader change (a
 * step-down; a lost node, after the followers' Raft election timeout of a few seconds) and on one
 * server while JetStream restarts. `js.publish` can wait such a gap out (its `retries` with
 * backoff); the direct publishes of decision 0035 did not, and a roster was cut short in the middle
 * of an election (decision 0038). Ten seconds covers an election on a loaded machine; it is bounded
 * so that a subject no stream captures (a configuration error) is still reported, and it stays far
 * inside a command's HTTP timeout. It counts from the first "no responders" of a stretch without
 * progress: every stored message starts the next stretch afresh.
 */
export const appendNoRespondersRetryMs = 10_000;

/** The pause before sending again after "no responders": first and largest step (doubling). */
export const appendNoRespondersPauseMinMs = 50;
export const appendNoRespondersPauseMaxMs = 1_000;

/** The most messages one pipelined batch may carry; a larger roster is split by the writer. */
export const appendBatchMessagesMax = 100_000;

/**
 * How many messages one read request asks for from the ordered consumer; large
 * batches keep 1,000,000-event rebuilds fast, and the client buffer bounded.
 */
export const readBatchMessagesMax = 1_000;

/**
 * How long a stream read waits for its next message, while the stream holds more up to where the
 * read ends, before it stops with `StreamReadStalledError` (decision 0127). The ordered consumer
 * never gives up by itself: when its server freezes or goes away it waits for heartbeats (missed
 * after 2 × 15 s), then asks for its consumer's info again with backoff, forever; a writer's
 * catch-up hung with it. A healthy server delivers what it holds at once, and the client's own
 * recoveries (recreating the consumer after a hole) are JetStream API requests bounded by their
 * 5 s timeout; so a read that hears nothing for as long as a request may wait for its answer is
 * stalled. It stays inside the 10 s a caller of ledger-api (the notice board) waits for an answer.
 */
export const readIdleMs = 5_000;

/**
 * The largest batch a projection may fetch: one PostgreSQL transaction must stay short (2,000
 * projected events take about a quarter of a second, decision 0130).
 */
export const projectionBatchMessagesMax = 2_000;

/**
 * Batches a projection holds unacknowledged (`max_ack_pending` = this × batch size), unless it
 * prepares the next batch while one commits (`projectionPreparedBatchesInFlight`). One: the
 * pull for the next batch is already waiting at the server while the current one commits, so it
 * is delivered the moment the acks land, and decoded while the runner finishes; but the server
 * never hands out a second batch before the first is acked. With two, two instances on one
 * durable (high availability) were measured splitting the stream message by message between
 * their pulls, so neither ever held a contiguous batch. After a crash the server redelivers
 * exactly the batch the dead process held.
 */
export const projectionBatchesInFlight = 1;

/**
 * Batches a projection that prepares the next batch while one commits (`prepare`, decision 0136)
 * holds unacknowledged: the one being written and the one being prepared. It pulls only while it
 * holds the stream's lease, so two instances never split a stream between them.
 */
export const projectionPreparedBatchesInFlight = 2;

/**
 * JetStream's own floor for a pull request's expiry; anything lower stresses the
 * server with requests that expire before messages can arrive.
 */
export const projectionMaxWaitMsMin = 1_000;

/**
 * How long the server waits for a projection's ack before redelivering. It is far
 * longer than a batch transaction should take (a batch that exceeds it is delivered
 * twice, which the checkpoint makes harmless) and bounds how long a restarted
 * projector waits to get back the batch its dead predecessor had in hand.
 */
export const projectionAckWaitMs = 30_000;

/** Backoff between retries after a PostgreSQL or NATS connection error: first and last step. */
export const retryBackoffMinMs = 200;
export const retryBackoffMaxMs = 10_000;

/**
 * How many times a projection re-fetches when a batch seems to skip a sequence that
 * the stream does hold (a redelivery arriving out of order) before it gives up and
 * reports a gap. A real gap (the stream lost the message) is reported at once.
 */
export const gapRecheckMax = 5;
