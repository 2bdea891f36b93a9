import {
  registryHousehold,
  registryHouseholdByIdHash,
  registryHouseholdsByNumber,
  registryVillageHouseholds,
  waitForRegistrySeq,
} from '@fundtrace/books';
import { idNumberHash, validateIdNumber } from '@fundtrace/pii';
import { type App, errorResponseSchema } from '@fundtrace/service-kit';
import { z } from 'zod';
import type { RegistryCommand } from '../households/commands';
import { registryMessage } from '../households/rejection-messages';
import { revealFields } from '../households/reveal';
import { commandDigest } from '../writer/digest';
import type { ExecuteResult } from '../writer/registry-writer';
import {
  actorOf,
  type Counties,
  canRead,
  canWrite,
  county,
  occurredAtOf,
  registryRejections,
  rejected,
  userOf,
} from './context';
import {
  accountBody,
  addMemberBody,
  commandResult,
  deathBody,
  eraseBody,
  exitBody,
  freshnessQuery,
  householdPage,
  householdParams,
  householdView as householdViewSchema,
  idSearchBody,
  idSearchResponse,
  moveBody,
  numberSearchQuery,
  pageQuery,
  partitionParams,
  reenterBody,
  registerBody,
  revealBody,
  revealResponse,
} from './schemas';

/**
 * How long a read with `minSeq` waits for the projector. The projector applies a batch within a
 * second or two even on the loaded development machine; past five seconds it is behind or stopped,
 * and the client is better told so (409 projection_behind) than left hanging.
 */
export const readYourWritesWaitMs = 5_000;
/** One read of the (few-row) projection_checkpoints table per poll. */
export const readYourWritesPollMs = 50;

const errors = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
  422: errorResponseSchema,
};

export function householdRoutes(app: App, counties: Counties): void {
  /** Runs a command for the route's county and answers 201 (new) or 200 (a repeat). */
  async function run(
    request: { params: { partition: string }; body: { commandId: string } },
    kind: RegistryCommand['kind'],
    command: RegistryCommand,
    occurredAt: string,
    reply: { status: (code: 200 | 201) => unknown },
  ) {
    const { writer } = county(counties, request.params.partition);
    const user = userOf(request as never);
    const { commandId, ...content } = request.body;
    const result: ExecuteResult = await writer.execute(command, {
      commandId,
      digest: commandDigest(kind, writer.partition, content, writer.keyring.hmacKey),
      actor: actorOf(user),
      occurredAt,
      correlationId: commandId,
    });
    if (!result.ok) throw rejected(result.rejection);
    reply.status(result.duplicate ? 200 : 201);
    const householdId = command.kind === 'register' ? command.household.householdId : command.householdId;
    return {
      householdId,
      duplicate: result.duplicate,
      firstSeq: result.firstSeq,
      lastSeq: result.lastSeq,
      events: result.events,
    };
  }

  const commandResponses = { 200: commandResult, 201: commandResult, ...errors };

  app.post(
    '/v1/partitions/:partition/households',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Register a household (建档立卡) with its members and account',
        tags: ['households'],
        params: partitionParams,
        body: registerBody,
        response: commandResponses,
      },
    },
    (request, reply) =>
      run(
        request,
        'register',
        { kind: 'register', household: request.body.household },
        occurredAtOf(request.body.household.registeredOn),
        reply,
      ),
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/members',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Add a member (birth, marriage …)',
        tags: ['households'],
        params: householdParams,
        body: addMemberBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { member, reason, addedOn } = request.body;
      return run(
        request,
        'add_member',
        { kind: 'add_member', householdId: request.params.householdId, member, reason, addedOn },
        occurredAtOf(addedOn),
        reply,
      );
    },
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/deaths',
    {
      onRequest: canWrite,
      schema: {
        summary: "Record a member's death",
        tags: ['households'],
        params: householdParams,
        body: deathBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { memberNo, diedOn } = request.body;
      return run(
        request,
        'record_death',
        { kind: 'record_death', householdId: request.params.householdId, memberNo, diedOn },
        occurredAtOf(diedOn),
        reply,
      );
    },
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/moves',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Move the household to another village of the county',
        tags: ['households'],
        params: householdParams,
        body: moveBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { toVillageCode, movedOn } = request.body;
      return run(
        request,
        'move',
        { kind: 'move', householdId: request.params.householdId, toVillageCode, movedOn },
        occurredAtOf(movedOn),
        reply,
      );
    },
  );

  app.put(
    '/v1/partitions/:partition/households/:householdId/account',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Bind or change the 一卡通 account',
        tags: ['households'],
        params: householdParams,
        body: accountBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { account, on, reason } = request.body;
      return run(
        request,
        'bind_account',
        { kind: 'bind_account', householdId: request.params.householdId, account, on, reason },
        occurredAtOf(on),
        reply,
      );
    },
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/exits',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Record an exit: 脱贫 (lifted) or 销号 (removed)',
        tags: ['households'],
        params: householdParams,
        body: exitBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { kind, exitedOn, reason } = request.body;
      return run(
        request,
        'exit',
        { kind: 'exit', householdId: request.params.householdId, exitKind: kind, exitedOn, reason },
        occurredAtOf(exitedOn),
        reply,
      );
    },
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/reentries',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Record a re-entry into poverty (返贫)',
        tags: ['households'],
        params: householdParams,
        body: reenterBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { reenteredOn, causeOfPoverty, reason } = request.body;
      return run(
        request,
        'reenter',
        { kind: 'reenter', householdId: request.params.householdId, reenteredOn, causeOfPoverty, reason },
        occurredAtOf(reenteredOn),
        reply,
      );
    },
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/erasures',
    {
      onRequest: canWrite,
      schema: {
        summary:
          "Erase a household's personal data (个人信息保护法 art. 47): destroy its data key and record the erasure",
        tags: ['households'],
        params: householdParams,
        body: eraseBody,
        response: commandResponses,
      },
    },
    (request, reply) => {
      const { erasedOn, reason } = request.body;
      return run(
        request,
        'erase',
        { kind: 'erase', householdId: request.params.householdId, erasedOn, reason },
        occurredAtOf(erasedOn),
        reply,
      );
    },
  );

  app.post(
    '/v1/partitions/:partition/households/:householdId/reveals',
    {
      onRequest: canWrite,
      schema: {
        summary: 'Show personal data in clear; the reveal is recorded as a PersonalDataRevealed event first',
        tags: ['households'],
        params: householdParams,
        body: revealBody,
        response: { 200: revealResponse, 201: revealResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { writer } = county(counties, request.params.partition);
      const user = userOf(request);
      const { commandId, ...content } = request.body;
      const householdId = request.params.householdId;
      const result = await writer.execute(
        {
          kind: 'reveal',
          householdId,
          memberNos: content.memberNos,
          fields: content.fields,
          reason: content.reason,
        },
        {
          commandId,
          digest: commandDigest('reveal', writer.partition, content, writer.keyring.hmacKey),
          actor: actorOf(user),
          occurredAt: new Date().toISOString(),
          correlationId: commandId,
        },
      );
      if (!result.ok) throw rejected(result.rejection);
      // The audit event is in the log; only now is anything decrypted.
      const household = writer.state.households.get(householdId)!;
      const revealed = await revealFields(
        household,
        content.memberNos,
        content.fields,
        await writer.openingKeyring(household),
        (seq) => writer.readEvent(seq),
      );
      request.log.info(
        { householdId, fields: content.fields, members: content.memberNos.length, auditSeq: result.lastSeq },
        'personal data revealed',
      );
      reply.status(result.duplicate ? 200 : 201);
      return { householdId, auditSeq: result.lastSeq, ...revealed };
    },
  );

  /**
   * The books (the projector's tables, through @fundtrace/books) answer every read. With `minSeq`
   * (the `lastSeq` a write answered) the read first waits for the projector to reach it, so a
   * household just written can be read back (decision 0043).
   */
  async function fresh(partition: string, minSeq: number | undefined): Promise<string> {
    const { writer } = county(counties, partition);
    if (minSeq === undefined || minSeq === 0) return writer.stream;
    if (minSeq > writer.state.lastSeq) {
      throw registryRejections.reject(
        'sequence_not_written',
        registryMessage('sequence_not_written', { partition, lastSeq: writer.state.lastSeq, minSeq }),
        { lastSeq: writer.state.lastSeq, minSeq },
      );
    }
    const projected = await waitForRegistrySeq(app.db, writer.stream, minSeq, {
      timeoutMs: readYourWritesWaitMs,
      pollMs: readYourWritesPollMs,
    });
    if (projected < minSeq) {
      throw registryRejections.reject(
        'projection_behind',
        registryMessage('projection_behind', { partition, projected, minSeq }),
        { asOfSeq: projected, minSeq, retryAfterSeconds: 1 },
      );
    }
    return writer.stream;
  }

  const notRegistered = (householdId: string) =>
    registryRejections.reject(
      'household_not_registered',
      registryMessage('household_not_registered', { case: 'household', householdId, partition: null }),
    );

  app.get(
    '/v1/partitions/:partition/households/:householdId',
    {
      onRequest: canRead,
      schema: {
        summary: 'A household with its members, masked, from the books (asOfSeq says how fresh)',
        tags: ['households'],
        params: householdParams,
        querystring: freshnessQuery,
        response: { 200: householdViewSchema, ...errors },
      },
    },
    async (request) => {
      const { partition, householdId } = request.params;
      const stream = await fresh(partition, request.query.minSeq);
      const view = await registryHousehold(app.db, partition, stream, householdId);
      if (view === undefined) throw notRegistered(householdId);
      return view;
    },
  );

  app.get(
    '/v1/partitions/:partition/villages/:villageCode/households',
    {
      onRequest: canRead,
      schema: {
        summary: 'Households of a village, masked, a page at a time, from the books',
        tags: ['households'],
        params: partitionParams.extend({ villageCode: z.string().regex(/^\d{12}$/) }),
        querystring: pageQuery,
        response: { 200: householdPage, ...errors },
      },
    },
    async (request) => {
      const { partition, villageCode } = request.params;
      const stream = await fresh(partition, request.query.minSeq);
      return registryVillageHouseholds(app.db, partition, stream, villageCode, {
        after: request.query.after ?? null,
        limit: request.query.limit,
      });
    },
  );

  app.get(
    '/v1/partitions/:partition/households',
    {
      onRequest: canRead,
      schema: {
        summary: 'Search households by household number (prefix), from the books',
        tags: ['households'],
        params: partitionParams,
        querystring: numberSearchQuery,
        response: { 200: householdPage, ...errors },
      },
    },
    async (request) => {
      const { partition } = request.params;
      const stream = await fresh(partition, request.query.minSeq);
      return registryHouseholdsByNumber(app.db, partition, stream, request.query.number, {
        after: request.query.after ?? null,
        limit: request.query.limit,
      });
    },
  );

  app.post(
    '/v1/partitions/:partition/households/search-by-id-number',
    {
      onRequest: canRead,
      // A read (the books' keyed hash) sent as POST to keep the ID number out of URLs and logs:
      // it keeps answering while NATS is away.
      config: { natsOptional: true },
      schema: {
        summary: 'Find the household holding an ID number (matched through its keyed hash in the books)',
        tags: ['households'],
        params: partitionParams,
        body: idSearchBody,
        response: { 200: idSearchResponse, ...errors },
      },
    },
    async (request) => {
      const { partition } = request.params;
      const { writer } = county(counties, partition);
      const id = validateIdNumber(request.body.idNumber);
      if (!id.ok) {
        const message = registryMessage('id_number_invalid', { member: null, reason: id.reason });
        throw registryRejections.reject('id_number_invalid', message, {
          problems: [{ code: 'id_number_invalid', reason: id.reason, message }],
        });
      }
      const stream = await fresh(partition, request.body.minSeq);
      const found = await registryHouseholdByIdHash(
        app.db,
        partition,
        stream,
        idNumberHash(id.value, writer.keyring),
      );
      if (found === undefined) {
        throw registryRejections.reject(
          'household_not_registered',
          registryMessage('household_not_registered', { case: 'id_number' }),
        );
      }
      return found;
    },
  );
}
