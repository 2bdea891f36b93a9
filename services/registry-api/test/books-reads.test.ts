import { type Projector, startProjector } from '@fundtrace/books';
import { useTestInfra } from '@fundtrace/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { auth, type StartedApi, startApi, tokenFor } from './api-helpers';
import { sampleHouseholds } from './helpers';

/**
 * Reads come from the books (the projector's households/members tables through @fundtrace/books),
 * not from the writer's memory (decision 0043): before the projector has run, a household the writer
 * knows is not found; a read with `minSeq` waits for the projector and, if it does not come, says so
 * by name; once projected, the answer says how fresh it is and survives a restart of the service.
 */
const infra = useTestInfra();
const [h1, h2] = sampleHouseholds(2, 9090).map((h) => ({ ...h, villageCode: '411325100201' }));
const base = '/v1/partitions/411325';
let projector: Projector | undefined;
const running: StartedApi[] = [];
afterAll(async () => {
  for (const api of running) await api.app.close();
  await projector?.stop();
});

async function call(api: StartedApi, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
  const response = await api.app.inject({
    method,
    url,
    headers: auth(await tokenFor('registry')),
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, body: response.json() };
}

describe('reads from the books', () => {
  it('waits for the projector to reach a write (read-your-writes), names the failure, and survives a restart', async () => {
    const api = await startApi(infra);
    running.push(api);
    const written = await call(api, 'POST', `${base}/households`, { commandId: 'r1', household: h1 });
    expect(written.status).toBe(201);
    const lastSeq = written.body.lastSeq as number;

    // No projector yet: the writer knows the household, the books do not, and reads use the books.
    const unseen = await call(api, 'GET', `${base}/households/${h1!.householdId}`);
    expect(unseen.status).toBe(404);
    const behind = await call(api, 'GET', `${base}/households/${h1!.householdId}?minSeq=${lastSeq}`);
    expect(behind.status).toBe(409);
    expect(behind.body.error).toMatchObject({
      code: 'projection_behind',
      details: { asOfSeq: 0, minSeq: lastSeq },
    });
    const future = await call(api, 'GET', `${base}/households/${h1!.householdId}?minSeq=${lastSeq + 100}`);
    expect(future.status).toBe(422);
    expect(future.body.error.code).toBe('sequence_not_written');

    projector = startProjector({ nc: infra.nc, db: infra.db, schema: 'public', ns: infra.ns });
    await projector.discover();
    const read = await call(api, 'GET', `${base}/households/${h1!.householdId}?minSeq=${lastSeq}`);
    expect(read.status).toBe(200);
    expect(read.body.asOfSeq).toBeGreaterThanOrEqual(lastSeq);
    expect(read.body).toMatchObject({
      householdId: h1!.householdId,
      villageCode: h1!.villageCode,
      status: 'enrolled',
      members: h1!.members.map((m, i) => ({
        memberNo: i + 1,
        idNumberMasked: `${m.idNumber.slice(0, 4)}${'*'.repeat(10)}${m.idNumber.slice(14)}`,
      })),
    });

    // A second household paid into the same account: both answers count the sharing (一卡多户).
    expect(h1!.account).not.toBeNull();
    const second = await call(api, 'POST', `${base}/households`, {
      commandId: 'r2',
      household: { ...h2, account: h1!.account && { ...h1!.account, holderMemberNo: 1 } },
    });
    expect(second.status).toBe(201);
    const page = await call(
      api,
      'GET',
      `${base}/villages/411325100201/households?limit=1&minSeq=${second.body.lastSeq}`,
    );
    expect(page.status).toBe(200);
    expect(page.body.asOfSeq).toBeGreaterThanOrEqual(second.body.lastSeq);
    expect(page.body.households).toHaveLength(1);
    const [firstId, secondId] = [h1!.householdId, h2!.householdId].sort();
    expect(page.body.households[0].householdId).toBe(firstId);
    expect(page.body.next).toBe(firstId);
    const rest = await call(api, 'GET', `${base}/villages/411325100201/households?after=${firstId}`);
    expect(rest.body.households.map((h: { householdId: string }) => h.householdId)).toEqual([secondId]);
    expect(rest.body.next).toBeNull();
    expect(rest.body.households[0].account.householdsSharing).toBe(2);
    expect(page.body.households[0].account.householdsSharing).toBe(2);
    const byNumber = await call(api, 'GET', `${base}/households?number=${h2!.householdId}`);
    expect(byNumber.body.households.map((h: { householdId: string }) => h.householdId)).toEqual([
      h2!.householdId,
    ]);
    const wildcard = await call(api, 'GET', `${base}/households?number=_`);
    expect(wildcard.body.households).toEqual([]); // `_` is a character of the number, not a wildcard
    const byId = await call(api, 'POST', `${base}/households/search-by-id-number`, {
      idNumber: h2!.members[0]!.idNumber,
      minSeq: second.body.lastSeq,
    });
    expect(byId.body).toMatchObject({ household: { householdId: h2!.householdId }, memberNo: 1 });

    // A restarted service answers at once from the books, before its writer saw any new command.
    await api.app.close();
    running.splice(running.indexOf(api), 1);
    const restarted = await startApi(infra, api.env);
    running.push(restarted);
    const again = await call(restarted, 'GET', `${base}/households/${h1!.householdId}`);
    expect(again.status).toBe(200);
    expect(again.body.members).toEqual(read.body.members);
  });
});
