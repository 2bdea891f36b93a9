/**
 * Events a projection works through before it lets the event loop turn (`yieldToIo`) while the
 * batch before is written (decision 0136). A batch's statement and COPY texts are megabytes; once
 * the socket's buffer is full the rest goes out only as the event loop hands it over, so a 2,000-
 * event batch decoded or applied in one go left PostgreSQL waiting for its data. About 2 ms of work.
 */
export const ioSliceEvents = 128;

/** Lets pending I/O (socket writes, answers) run before the next slice of work. */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
