import { waitForRegistrySeq } from '@fundtrace/books';
import { readStreamRaw } from '@fundtrace/eventlog';
import { decodeEvent, streamName } from '@fundtrace/events';
import { type HouseholdInputParsed, householdHeader, householdToRows } from '@fundtrace/pii';
import { useTestInfra } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, type StartedApi, startApi, tokenFor, useBooks } from './api-helpers';
import { idNumber, sampleHouseholds } from './helpers';

/**
 * registry-api against the machine's NATS: commands, queries, reveals and imports through HTTP, and
 * the proof that no clear ID number reaches a log line, a stored event or a masked answer.
 */
const infra = useTestInfra();
const books = useBooks(infra);
let api: StartedApi;
let registry: string;
let finance: string;
let inspector: string;
const households = sampleHouseholds(40, 21);
const [first, second] = households as [HouseholdInputParsed, HouseholdInputParsed];
const clearIds = households.flatMap((h) => h.members.map((m) => m.idNumber));
const bodies: string[] = [];

beforeAll(async () => {
  api = await startApi(books);
  registry = await tokenFor('registry');
  finance = await tokenFor('finance');
  inspector = await tokenFor('inspector');
});
afterAll(async () => {
  await api?.app.close();
});

/**
 * Reads come from the books, which the projector fills after each write: every read here passes
 * the county's last written sequence as `minSeq`, as a client that just wrote would (read-your-writes).
 */
async function call(method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) {
  const written = api.counties.get('411325')!.writer.state.lastSeq;
  const read = !url.includes('/imports') && (method === 'GET' || url.endsWith('/search-by-id-number'));
  const response = await api.app.inject({
    method,
    url: read && method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}minSeq=${written}` : url,
    headers: auth(token),
    ...(payload === undefined
      ? {}
      : { payload: (read ? { ...(payload as object), minSeq: written } : payload) as object }),
  });
  bodies.push(response.body);
  return { status: response.statusCode, body: response.json() };
}

const base = '/v1/partitions/411325';

describe('registry-api', () => {
  it('registers a household, answers a repeat with the original result and refuses a reused command id', async () => {
    const created = await call('POST', `${base}/households`, registry, {
      commandId: 'reg-1',
      household: first,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ householdId: first.householdId, duplicate: false, firstSeq: 1 });
    const repeat = await call('POST', `${base}/households`, registry, {
      commandId: 'reg-1',
      household: first,
    });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ duplicate: true, firstSeq: 1, lastSeq: created.body.lastSeq });
    const reused = await call('POST', `${base}/households`, registry, {
      commandId: 'reg-1',
      household: second,
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });

  it('refuses the same ID number in a second household of the county with a named code', async () => {
    const clash = {
      ...second,
      members: [
        { ...second.members[0]!, idNumber: first.members[0]!.idNumber, birthDate: null },
        ...second.members.slice(1),
      ],
    };
    const refused = await call('POST', `${base}/households`, registry, {
      commandId: 'reg-clash',
      household: clash,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('id_number_registered_in_county');
    expect(refused.body.error.details.problems[0]).toMatchObject({
      member: 1,
      householdId: first.householdId,
    });
    // In Chinese for the clerk, naming the household and member, never the ID number (0131).
    expect(refused.body.error.message).toMatch(
      new RegExp(
        `^第 1 名成员的身份证号码已登记为本县户 ${first.householdId} 的第 \\d+ 名成员；同一人不能重复登记。$`,
      ),
    );
    expect(refused.body.error.message).not.toContain(clash.members[0]!.idNumber);
  });

  it('lets finance and inspectors read masked households but not write; keeps other counties out', async () => {
    const view = await call('GET', `${base}/households/${first.householdId}`, finance);
    expect(view.status).toBe(200);
    expect(view.body.members[0].idNumberMasked).toMatch(/^\d{4}\*{10}[\dX]{4}$/);
    expect((await call('GET', `${base}/households/${first.householdId}`, inspector)).status).toBe(200);
    const write = await call('POST', `${base}/households`, finance, {
      commandId: 'reg-f',
      household: second,
    });
    expect(write.status).toBe(403);
    const outsider = await tokenFor('registry', ['411326']);
    expect((await call('GET', `${base}/households/${first.householdId}`, outsider)).status).toBe(403);
    const unserved = await call(
      'GET',
      `/v1/partitions/411326/households/${first.householdId}`,
      await tokenFor('registry', ['*']),
    );
    expect(unserved.body.error.code).toBe('partition_not_served');
  });

  it('finds a household by ID number through the keyed hash, by number prefix and by village', async () => {
    const byId = await call('POST', `${base}/households/search-by-id-number`, finance, {
      idNumber: first.members[1]?.idNumber ?? first.members[0]!.idNumber,
    });
    expect(byId.status).toBe(200);
    expect(byId.body.household.householdId).toBe(first.householdId);
    const missing = await call('POST', `${base}/households/search-by-id-number`, finance, {
      idNumber: second.members[0]!.idNumber,
    });
    expect(missing.body.error.code).toBe('household_not_registered');
    const bad = await call('POST', `${base}/households/search-by-id-number`, finance, { idNumber: '123' });
    expect(bad.body.error).toMatchObject({
      code: 'id_number_invalid',
      message: '身份证号码位数不对（应为 18 位）；请核对号码。',
      details: { problems: [{ reason: 'length' }] },
    });
    const byNumber = await call(
      'GET',
      `${base}/households?number=${first.householdId.slice(0, 10)}`,
      finance,
    );
    expect(byNumber.body.households.map((h: { householdId: string }) => h.householdId)).toContain(
      first.householdId,
    );
    const village = await call('GET', `${base}/villages/${first.villageCode}/households?limit=1`, inspector);
    expect(village.body.households[0].householdId).toBe(first.householdId);
  });

  it('records a death, a move, an account change, an exit and a re-entry', async () => {
    const id = first.householdId;
    const other = first.villageCode.slice(0, 9) + (first.villageCode.endsWith('999') ? '998' : '999');
    expect(
      (
        await call('POST', `${base}/households/${id}/moves`, registry, {
          commandId: 'mv-1',
          toVillageCode: other,
          movedOn: '2019-05-01',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('PUT', `${base}/households/${id}/account`, registry, {
          commandId: 'acc-1',
          account: { bank: 'RCC', medium: 'passbook', number: '411325000123456', holderMemberNo: 1 },
          on: '2019-06-01',
          reason: '换折',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', `${base}/households/${id}/exits`, registry, {
          commandId: 'ex-1',
          kind: 'lifted',
          exitedOn: '2019-12-20',
          reason: '两不愁三保障达标',
        })
      ).status,
    ).toBe(first.status === 'lifted' ? 409 : 201);
    expect(
      (
        await call('POST', `${base}/households/${id}/reentries`, registry, {
          commandId: 're-1',
          reenteredOn: '2020-08-01',
          causeOfPoverty: 'disaster',
          reason: '因灾返贫',
        })
      ).status,
    ).toBe(201);
    if (first.members.length > 1) {
      expect(
        (
          await call('POST', `${base}/households/${id}/deaths`, registry, {
            commandId: 'd-1',
            memberNo: 2,
            diedOn: '2021-01-03',
          })
        ).status,
      ).toBe(201);
    }
    const view = await call('GET', `${base}/households/${id}`, finance);
    expect(view.body).toMatchObject({
      villageCode: other,
      status: 'enrolled',
      causeOfPoverty: 'disaster',
      account: { bank: 'RCC', accountMasked: '****3456' },
    });
  });

  it('reveals clear data only to the registry role, after appending PersonalDataRevealed with who and why', async () => {
    const id = first.householdId;
    const denied = await call('POST', `${base}/households/${id}/reveals`, finance, {
      commandId: 'rv-f',
      memberNos: [1],
      fields: ['id_number'],
      reason: '核对',
    });
    expect(denied.status).toBe(403);
    const revealed = await call('POST', `${base}/households/${id}/reveals`, registry, {
      commandId: 'rv-1',
      memberNos: [1],
      fields: ['id_number', 'name', 'account_number', 'health'],
      reason: '核对一卡通开户信息',
    });
    expect(revealed.status).toBe(201);
    bodies.pop(); // the one answer allowed to carry clear text
    expect(revealed.body.members[0].idNumber).toEqual({
      value: first.members[0]!.idNumber,
      keyDestroyed: false,
    });
    expect(revealed.body.members[0].name.value).toBe(first.members[0]!.name);
    expect(revealed.body.accountNumber.value).toBe('411325000123456');
    const stored = await api.counties.get('411325')!.writer.readEvent(revealed.body.auditSeq);
    expect(stored).toMatchObject({
      type: 'PersonalDataRevealed',
      data: { householdId: id, memberNos: [1], reason: '核对一卡通开户信息' },
    });
    const raw = await infra.jsm.streams.getMessage(streamName('registry', '411325', infra.ns), {
      seq: revealed.body.auditSeq,
    });
    expect(decodeEvent(raw!.data).actor).toEqual({
      userId: 'registry-officer',
      role: 'registry',
      org: '内乡县扶贫办',
    });
  });

  it('imports rows all or nothing: a bad file is rejected with every row, a dry run appends nothing, a good file lands', async () => {
    const rest = households.slice(2);
    const rows = rest.flatMap((h) => householdToRows(h)).map((cells, i) => ({ row: i + 2, cells }));
    const broken = rows.map((r) => ({ ...r, cells: [...r.cells] }));
    const idCol = householdHeader.indexOf('身份证号');
    broken[3]!.cells[idCol] =
      broken[3]!.cells[idCol]!.slice(0, 17) + (broken[3]!.cells[idCol]!.endsWith('1') ? '2' : '1');
    broken[7]!.cells[idCol] = first.members[0]!.idNumber; // already in the county
    broken[9]!.cells[householdHeader.indexOf('与户主关系')] = '邻居';
    // A 建档日期 typed ten years ahead (the first row carries the household's fields).
    broken[0]!.cells[householdHeader.indexOf('建档日期')] = '2035-01-01';
    const before = api.counties.get('411325')!.writer.state.lastSeq;
    const rejected = await call('POST', `${base}/imports`, registry, {
      commandId: 'imp-bad',
      header: householdHeader,
      rows: broken,
    });
    expect(rejected.status).toBe(422);
    expect(rejected.body.error.code).toBe('import_rows_invalid');
    const summary = rejected.body.error.details.errors.map(
      (e: { row: number; reason: string }) => `${e.row}:${e.reason}`,
    );
    expect(summary).toEqual(
      expect.arrayContaining([
        '5:id_number_invalid.check_digit',
        '9:id_number_registered_in_county',
        '11:unknown_value',
        '2:date_in_future',
      ]),
    );
    expect(
      rejected.body.error.details.errors.find((e: { reason: string }) => e.reason === 'date_in_future'),
    ).toMatchObject({ row: 2, column: '建档日期' });
    expect(api.counties.get('411325')!.writer.state.lastSeq).toBe(before);

    const dry = await call('POST', `${base}/imports`, registry, {
      commandId: 'imp-1',
      dryRun: true,
      header: householdHeader,
      rows,
    });
    expect(dry.body).toEqual({ dryRun: true, rows: rows.length, households: rest.length });
    expect(api.counties.get('411325')!.writer.state.lastSeq).toBe(before);

    const started = await call('POST', `${base}/imports`, registry, {
      commandId: 'imp-1',
      header: householdHeader,
      rows,
    });
    expect([200, 202]).toContain(started.status);
    let job = started.body;
    for (let i = 0; i < 200 && job.status === 'appending'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await call('GET', `${base}/imports/imp-1`, registry)).body;
    }
    expect(job).toMatchObject({ status: 'done', households: rest.length, appendedHouseholds: rest.length });
    expect(api.counties.get('411325')!.writer.state.households.size).toBe(households.length - 1);
    const again = await call('POST', `${base}/imports`, registry, {
      commandId: 'imp-1',
      header: householdHeader,
      rows,
    });
    expect(again.status).toBe(200);
    expect(api.counties.get('411325')!.writer.state.households.size).toBe(households.length - 1);
  });

  it('adds a member through HTTP and refuses a second head and a no-op account change', async () => {
    const id = second.householdId;
    expect(
      (
        await call('POST', `${base}/households`, registry, {
          commandId: 'reg-2',
          household: { ...second, account: null },
        })
      ).status,
    ).toBe(201);
    const baby = {
      name: '王小宝',
      idNumber: idNumber('411325', '20190909', '021'),
      relation: 'son',
      health: 'healthy',
    };
    const added = await call('POST', `${base}/households/${id}/members`, registry, {
      commandId: 'm-1',
      member: baby,
      reason: 'birth',
      addedOn: '2019-09-20',
    });
    expect(added.status).toBe(201);
    const view = await call('GET', `${base}/households/${id}`, finance);
    expect(view.body.members.at(-1)).toMatchObject({
      memberNo: second.members.length + 1,
      relation: 'son',
      nameMasked: '王*宝',
      birthYear: 2019,
    });
    const head = await call('POST', `${base}/households/${id}/members`, registry, {
      commandId: 'm-2',
      member: { ...baby, relation: 'head', idNumber: idNumber('411325', '19900101', '011') },
      reason: 'other',
      addedOn: '2019-09-20',
    });
    expect(head.body.error.code).toBe('household_head_ambiguous');
    const account = { bank: 'PSBC', medium: 'card', number: '6217990000000000006', holderMemberNo: 1 };
    const bound = await call('PUT', `${base}/households/${id}/account`, registry, {
      commandId: 'a-1',
      account,
      on: '2019-10-01',
    });
    expect(bound.status).toBe(201);
    const same = await call('PUT', `${base}/households/${id}/account`, registry, {
      commandId: 'a-2',
      account,
      on: '2019-10-02',
      reason: '重复',
    });
    expect(same.body.error.code).toBe('account_unchanged');
  });

  it('answers import_not_found for an import it never saw', async () => {
    const missing = await call('GET', `${base}/imports/nope`, registry);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('import_not_found');
  });

  it('rebuilds the same state from the stream after a restart', async () => {
    const before = api.counties.get('411325')!.writer.state;
    const restarted = await startApi(books, api.env);
    try {
      const after = restarted.counties.get('411325')!.writer.state;
      expect(after.lastSeq).toBe(before.lastSeq);
      expect([...after.households.values()]).toEqual([...before.households.values()]);
      expect(after.commands).toEqual(before.commands);
      const repeat = await restarted.app.inject({
        method: 'POST',
        url: `${base}/households`,
        headers: auth(registry),
        payload: { commandId: 'reg-1', household: second },
      });
      expect(repeat.json().error.code).toBe('idempotency_key_reused');
    } finally {
      await restarted.app.close();
    }
  });

  it('never lets a clear ID number into a log line, a stored event, a projection row or a masked answer', async () => {
    expect(api.logLines.length).toBeGreaterThan(10);
    const stored: string[] = [];
    for await (const m of readStreamRaw(infra.js, {
      stream: streamName('registry', '411325', infra.ns),
      fromSeq: 1,
    })) {
      stored.push(new TextDecoder().decode(m.bytes));
    }
    expect(stored.length).toBe(api.counties.get('411325')!.writer.state.lastSeq);
    // Every row of every table of the books, once they have projected the whole stream.
    await waitForRegistrySeq(infra.db, streamName('registry', '411325', infra.ns), stored.length, {
      timeoutMs: 30_000,
      pollMs: 100,
    });
    const { rows: tables } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by 1`.execute(
      infra.db,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['households', 'members', 'events']),
    );
    const projected: string[] = [];
    for (const { table_name } of tables) {
      const { rows } = await sql<{
        row: string;
      }>`select t::text as row from ${sql.table(table_name)} t`.execute(infra.db);
      projected.push(...rows.map((r) => r.row));
    }
    expect(projected.length).toBeGreaterThan(stored.length);
    const haystacks = {
      logs: api.logLines.join('\n'),
      events: stored.join('\n'),
      projections: projected.join('\n'),
      answers: bodies.join('\n'),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const id of clearIds) {
        expect(text.includes(id), `${where} contain a clear ID number`).toBe(false);
        expect(text.includes(id.slice(0, 17)), `${where} contain the first 17 digits of an ID number`).toBe(
          false,
        );
      }
    }
  });
});
