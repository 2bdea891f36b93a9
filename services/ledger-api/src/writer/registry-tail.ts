import { consumerTail, type Logger, lastSequence, StreamMissingError } from '@fundtrace/eventlog';
import type { AnyEvent } from '@fundtrace/events';
import {
  type Consumer,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { HouseholdFacts, RegistryView } from '../ledger/decide';
import { decodeRegistryEvent } from './fast-decode';

/** How soon to look again for a REGISTRY stream that does not exist yet (registry-api creates it). */
export const registryRetryMs = 2_000;

/**
 * Longest pause between looks for a missing REGISTRY stream: the pause doubles from
 * `registryRetryMs` up to this. Each look is a STREAM.INFO that fails with errors built with stack
 * traces; a partition that never registers households (a province) should cost nothing. A payment
 * does not wait for the pause: `catchUp` finds the stream and starts the tail at once.
 */
export const registryRetryMaxMs = 60_000;

/**
 * Longest a payment waits for the registry tail to reach the stream's end. A
 * household registered a moment ago must be payable; waiting longer than this
 * means the tail is broken, and the command fails rather than deciding blind.
 */
export const registryCatchUpTimeoutMs = 10_000;

interface MutableFacts {
  exited: boolean;
  accountBound: boolean;
  livingMembers: number;
  /** Only households with a recorded death carry a list (most never do: memory at 100,000 households). */
  deceased: Array<{ memberNo: number; diedOn: string }> | undefined;
}

/**
 * Applies one registry event to the household facts the ledger needs. Only the
 * facts, never personal data: the registry's encrypted fields are not read.
 */
export function applyRegistryEvent(facts: Map<string, MutableFacts>, event: AnyEvent): void {
  switch (event.type) {
    case 'HouseholdRegistered':
      facts.set(event.data.householdId, {
        exited: false,
        accountBound: false,
        livingMembers: event.data.members.length,
        deceased: undefined,
      });
      return;
    case 'MemberAdded': {
      const f = facts.get(event.data.householdId);
      if (f) f.livingMembers += 1;
      return;
    }
    case 'MemberDeceased': {
      const f = facts.get(event.data.householdId);
      const { memberNo, diedOn } = event.data;
      // registry-api refuses a second death of one member; a repeat here must not count twice.
      if (!f || f.deceased?.some((d) => d.memberNo === memberNo)) return;
      f.livingMembers -= 1;
      f.deceased = [...(f.deceased ?? []), { memberNo, diedOn }];
      return;
    }
    case 'AccountBound':
    case 'AccountChanged': {
      const f = facts.get(event.data.householdId);
      if (f) f.accountBound = true;
      return;
    }
    case 'HouseholdExited': {
      const f = facts.get(event.data.householdId);
      if (f) f.exited = true;
      return;
    }
    case 'HouseholdReentered': {
      const f = facts.get(event.data.householdId);
      if (f) f.exited = false;
      return;
    }
    default:
      return;
  }
}

/**
 * ledger-api's view of REGISTRY_<code>: an ordered consumer tailing the stream
 * in the background, keeping for each household whether it is registered,
 * exited, has a 一卡通 account, and how many of its members are alive. Writers never read PostgreSQL to decide.
 */
export class RegistryTail implements RegistryView {
  private readonly facts = new Map<string, MutableFacts>();
  private last = 0;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private stopped = false;
  private running: Promise<void> | undefined;
  private stopCurrent: (() => Promise<void>) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = registryRetryMs;
  /** The tail's ordered consumer while it runs: its server's count is a second view of the stream's end. */
  private consumer: Consumer | undefined;
  /** Settles once the latest start of the tail has its consumer, or has failed to get one. */
  private started: Promise<void> = Promise.resolve();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    private readonly logger: Logger,
  ) {}

  get seq(): number {
    return this.last;
  }

  get householdCount(): number {
    return this.facts.size;
  }

  household(householdId: string): HouseholdFacts | undefined {
    return this.facts.get(householdId);
  }

  /**
   * Starts tailing; resolves once the tail has reached the stream's end as of now. A cold start
   * reads the whole registry (100,000 events for a county of 50,000 households), which takes longer
   * than `registryCatchUpTimeoutMs` on a busy machine: it waits as long as the tail makes progress
   * and fails only when the tail stalls for that long.
   */
  async start(): Promise<void> {
    this.tail();
    for (;;) {
      const from = this.last;
      try {
        return await this.catchUp();
      } catch (error) {
        if (this.last === from) throw error;
      }
    }
  }

  /**
   * Waits until every registry event stored before this call has been applied. The stream's end is
   * the largest of stream info's last sequence and the tail its consumer's server counts (0122): on
   * R3 right after a restart stream info can come from a stale replica, and a wait sized by it alone
   * ended before a household registered a moment ago, which the ledger then refused as unknown.
   * Both are asked at once, so the second view costs no extra wait.
   */
  async catchUp(timeoutMs = registryCatchUpTimeoutMs): Promise<void> {
    let target: number;
    try {
      const [stored, counted] = await Promise.all([lastSequence(this.jsm, this.stream), this.countedTail()]);
      target = Math.max(stored, counted);
    } catch (error) {
      if (error instanceof StreamMissingError) return; // no households registered yet
      throw error;
    }
    // The stream exists, but the tail is pausing before its next look (it had not found the stream,
    // or failed): look now, and ask its new consumer how far the stream goes, since stream info
    // alone may be short.
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.tail();
      target = Math.max(target, await this.countedTail());
    }
    if (this.last >= target) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `registry tail of ${this.stream} is at ${this.last}, behind ${target} after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ seq: target, resolve: done });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.stopCurrent?.();
    await this.running?.catch(() => undefined);
  }

  /**
   * The stream's end as the tail's consumer's server counts it, once the tail's latest start has its
   * consumer; 0 without one (the tail is pausing) or when the server does not answer (the consumer
   * is being recreated): stream info's view stands alone then, as it did before 0122.
   */
  private async countedTail(): Promise<number> {
    await this.started;
    const consumer = this.consumer;
    if (consumer === undefined) return 0;
    try {
      // info(true) is the client's cached info: the current consumer's name, no request. The count
      // is asked through the manager, not consumer.info(), which would overwrite that cache with an
      // answer that may arrive after the ordered consumer was recreated under another name.
      const { name } = await consumer.info(true);
      return await consumerTail(this.jsm, this.stream, name);
    } catch {
      return 0;
    }
  }

  private tail(): void {
    if (this.stopped) return;
    let started: () => void = () => undefined;
    this.started = new Promise<void>((resolve) => {
      started = resolve;
    });
    this.running = this.consume(started).catch((error: unknown) => {
      started();
      this.consumer = undefined;
      if (this.stopped) return;
      let pause = registryRetryMs;
      if (error instanceof StreamMissingError) {
        pause = this.retryMs;
        this.retryMs = Math.min(this.retryMs * 2, registryRetryMaxMs);
      } else {
        this.logger.error({ err: error, stream: this.stream }, 'registry tail failed; retrying');
      }
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.tail();
      }, pause);
    });
  }

  private async consume(started: () => void): Promise<void> {
    await lastSequence(this.jsm, this.stream); // throws StreamMissingError while it does not exist
    const consumer = await this.js.consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.last + 1,
    });
    const messages = await consumer.consume();
    this.retryMs = registryRetryMs;
    this.consumer = consumer;
    started();
    this.stopCurrent = async () => {
      await messages.close();
    };
    for await (const m of messages) {
      if (m.seq <= this.last) continue; // an ordered consumer restarted at an earlier point
      applyRegistryEvent(this.facts, decodeRegistryEvent(m.data));
      this.last = m.seq;
      if (this.waiters.length > 0) {
        const ready = this.waiters.filter((w) => w.seq <= this.last);
        this.waiters = this.waiters.filter((w) => w.seq > this.last);
        for (const w of ready) w.resolve();
      }
    }
    if (!this.stopped) throw new Error(`registry tail of ${this.stream} ended unexpectedly`);
  }
}
