/**
 * How long `until` waits by default: a fault suite's recovery (a NATS leader election, a service
 * restarted and caught up) on a loaded two-core machine, with room to spare. Callers that wait for
 * something quicker pass their own bound.
 */
export const untilTimeoutMsDefault = 240_000;

/** Pause between two probes: often enough not to slow a test, rarely enough not to load the servers. */
export const untilPollMs = 200;

/**
 * Polls `probe` until it answers true; after `timeoutMs` fails naming `what` (and why the last
 * probe said no: its error, or that it did not answer). A probe that throws counts as "not yet".
 * So does a probe that has not answered within `probeTimeoutMs`: the next one starts (a read whose
 * consumer sits on a node that went away may never end by itself). Without `probeTimeoutMs` a probe
 * still never outlasts the deadline, so a hung probe cannot hang the wait.
 */
export async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = untilTimeoutMsDefault,
  probeTimeoutMs?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let why = '';
  for (;;) {
    // The last probe gets at least one poll interval, even when the deadline is that close.
    const boundMs = Math.min(
      probeTimeoutMs ?? Number.MAX_SAFE_INTEGER,
      Math.max(deadline - Date.now(), untilPollMs),
    );
    const answer = await probeWithin(probe, boundMs);
    if (answer.ok) return;
    why = answer.why;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(untilPollMs, deadline - Date.now())));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why === '' ? '' : ` (${why})`}`);
}

type ProbeAnswer = { readonly ok: true } | { readonly ok: false; readonly why: string };

/** One probe, raced against `boundMs`; a probe left behind may settle later and is ignored. */
async function probeWithin(probe: () => Promise<boolean>, boundMs: number): Promise<ProbeAnswer> {
  const answer = Promise.resolve()
    .then(probe)
    .then(
      (held): ProbeAnswer => (held === true ? { ok: true } : { ok: false, why: '' }),
      (error: unknown): ProbeAnswer => ({
        ok: false,
        why: `last error: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ProbeAnswer>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, why: `the last probe did not answer within ${boundMs} ms` }),
      boundMs,
    );
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
