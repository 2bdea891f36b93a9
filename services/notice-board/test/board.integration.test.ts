import { listedTotals, spendingProgress } from '@fundtrace/books';
import { connectActiveSchemaDb, type Database } from '@fundtrace/db';
import { verifyBundle } from '@fundtrace/merkle';
import { formatYuan } from '@fundtrace/money';
import { type App, signToken } from '@fundtrace/service-kit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardFor } from './support/board';
import { type CountyFixture, county, startCounty } from './support/county';

/**
 * The board over a county written through the real services (registry-api, ledger-api, projector,
 * log-keeper). Proves: totals equal their lines and the books; no clear personal number of the
 * generated households reaches any page or feed; pages are cached per version of the books;
 * the objection form reaches ledger-api and answers the same whatever is typed.
 */

let fixture: CountyFixture;
let app: App;
let books: { db: Kysely<Database>; destroy(): Promise<void> };
const today = '2026-06-01';

beforeAll(async () => {
  fixture = await startCounty();
  app = await boardFor(fixture, { today: () => today });
  books = await connectActiveSchemaDb<Database>(fixture.databaseUrl);
}, 600_000);
afterAll(async () => {
  await app?.close();
  await books?.destroy();
  await fixture?.stop();
});

async function json<T = Record<string, unknown>>(url: string): Promise<T> {
  const response = await app.inject(url);
  expect(response.statusCode, url).toBe(200);
  return response.json() as T;
}

interface RegionJson {
  place: { code: string; level: string };
  children: { code: string }[];
  allocations: null | {
    received: { amountFen: string; reversed: boolean }[];
    issued: { issuedFen: string; receivedFen: string; inTransitFen: string }[];
    receivedTotalFen: string;
    issuedTotalFen: string;
    inTransitTotalFen: string;
  };
  projects: null | {
    lines: { budgetFen: string; earmarkedFen: string; disbursedFen: string; villageCode: string }[];
    budgetTotalFen: string;
    earmarkedTotalFen: string;
    disbursedTotalFen: string;
  };
  payments: null | {
    villages: { villageCode: string; paidFen: string; pendingFen: string }[];
    paidTotalFen: string;
    pendingTotalFen: string;
  };
  progress: { place: { code: string } }[];
  notices: { noticeId: string }[];
}
interface NoticeJson {
  linesFrom: 'published' | 'payments';
  lines: {
    amountFen: string;
    name: string;
    lineNo: number;
    paymentStatus: string | null;
    objection: string | null;
  }[];
  paidCount: number;
  paidTotalFen: string;
  amountTotalFen: string;
  lineCount: number;
  maskingVersion: number;
  period: { phase: string; days: number; daysLeft: number; minDays: number };
  checkpoint: { stream: string; size: number; rootHashHex: string } | null;
}

const big = (s: string) => BigInt(s);
const total = <T>(rows: readonly T[], f: (r: T) => string) => rows.reduce((a, r) => a + big(f(r)), 0n);

/** The figure in the HTML cell marked data-total="<name>". */
function htmlTotal(body: string, name: string): string | undefined {
  return new RegExp(`data-total="${name}">([^<]*)<`).exec(body)?.[1];
}

describe('totals on every page equal the sum of their lines and the books', () => {
  it('county: allocations, projects and payments', async () => {
    const page = await json<RegionJson>(`/api/r/${county}`);
    const a = page.allocations!;
    expect(big(a.receivedTotalFen)).toBe(
      total(
        a.received.filter((r) => !r.reversed),
        (r) => r.amountFen,
      ),
    );
    const p = page.projects!;
    expect(p.lines.length).toBe(fixture.villages.length);
    expect(big(p.budgetTotalFen)).toBe(total(p.lines, (l) => l.budgetFen));
    expect(big(p.earmarkedTotalFen)).toBe(total(p.lines, (l) => l.earmarkedFen));
    expect(big(p.disbursedTotalFen)).toBe(total(p.lines, (l) => l.disbursedFen));
    // The books' own report over the whole period, computed from the entries, not the project rows.
    const [row] = await spendingProgress(books.db, {
      partition: county,
      from: '2020-01-01',
      to: '2026-12-31',
      groupBy: [],
    });
    expect(row!.measures.received).toBe(big(a.receivedTotalFen));
    expect(row!.measures.earmarked).toBe(big(p.earmarkedTotalFen));
    expect(row!.measures.disbursed).toBe(big(p.disbursedTotalFen));
    const pay = page.payments!;
    expect(big(pay.paidTotalFen)).toBe(total(pay.villages, (v) => v.paidFen));
    expect(big(pay.paidTotalFen) + big(pay.pendingTotalFen)).toBe(row!.measures.paid);
    // The HTML shows the same figures as the JSON.
    const html = (await app.inject(`/r/${county}`)).body;
    expect(htmlTotal(html, 'received')).toBe(formatYuan(big(a.receivedTotalFen)));
    expect(htmlTotal(html, 'budget')).toBe(formatYuan(big(p.budgetTotalFen)));
    expect(htmlTotal(html, 'disbursed')).toBe(formatYuan(big(p.disbursedTotalFen)));
    expect(htmlTotal(html, 'paid')).toBe(formatYuan(big(pay.paidTotalFen)));
  });

  it('province: money issued and not yet received shows as in transit', async () => {
    const page = await json<RegionJson>('/api/r/410000');
    const a = page.allocations!;
    expect(big(a.issuedTotalFen)).toBe(total(a.issued, (r) => r.issuedFen));
    expect(big(a.inTransitTotalFen)).toBe(total(a.issued, (r) => r.inTransitFen));
    expect(big(a.inTransitTotalFen)).toBe(12_345_678n);
    const [row] = await spendingProgress(books.db, {
      partition: '410000',
      from: '2020-01-01',
      to: '2026-12-31',
      groupBy: [],
    });
    expect(row!.measures.issued).toBe(big(a.issuedTotalFen));
  });

  it('CSP without upgrade-insecure-requests, so a board on plain HTTP keeps its objection form on HTTP', async () => {
    for (const url of ['/', `/r/${county}`, '/docs']) {
      const csp = String((await app.inject(url)).headers['content-security-policy'] ?? '');
      expect(csp, url).toMatch(/default-src 'self'/);
      expect(csp, url).toMatch(/frame-ancestors/);
      expect(csp, url).not.toMatch(/upgrade-insecure-requests/);
    }
  });

  it('province: 来自 and 下达至 name the regions (南阳市, not 411300), linked to their pages', async () => {
    const html = (await app.inject('/r/410000')).body;
    const issued = html.slice(html.indexOf('本级下达的资金'));
    expect(issued).toContain('<a href="/r/411300">南阳市</a>');
    expect(issued).toContain('<a href="/r/411200">三门峡市</a>');
    expect(issued).not.toMatch(/>4\d{5}</);
    const received = html.slice(html.indexOf('本级收到的资金'), html.indexOf('本级下达的资金'));
    expect(received).toContain('<a href="/r/000000">中央</a>');
  });

  it("a project's 类别 is its purpose's Chinese name from the reference data, not the code", async () => {
    const html = (await app.inject(`/r/${county}`)).body;
    const projects = html.slice(html.indexOf('项目安排和资金使用'), html.indexOf('补贴发放到户'));
    expect(projects).toContain('<td>基础设施建设</td>');
    expect(projects).not.toContain('infrastructure');
    const page = await json<RegionJson & { categoryNames: Record<string, string> }>(`/api/r/${county}`);
    expect(page.categoryNames).toEqual({ infrastructure: '基础设施建设' });
  });

  it('every township and village: project lines, and the books per village', async () => {
    const byVillage = await spendingProgress(books.db, {
      partition: county,
      from: '2020-01-01',
      to: '2026-12-31',
      groupBy: ['village'],
    });
    const townships = [...new Set(fixture.villages.map((v) => v.slice(0, 9)))];
    for (const code of [...townships, ...fixture.villages]) {
      const page = await json<RegionJson>(`/api/r/${code}`);
      const p = page.projects!;
      expect(big(p.disbursedTotalFen)).toBe(total(p.lines, (l) => l.disbursedFen));
      expect(p.lines.every((l) => l.villageCode.startsWith(code))).toBe(true);
      const books = byVillage.filter((r) => (r.key.village ?? '').startsWith(code));
      const booksDisbursed = books.reduce((a, r) => a + (r.measures.disbursed ?? 0n), 0n);
      const booksPaid = books.reduce((a, r) => a + (r.measures.paid ?? 0n), 0n);
      expect(big(p.disbursedTotalFen), code).toBe(booksDisbursed);
      const pay = page.payments!;
      expect(big(pay.paidTotalFen) + big(pay.pendingTotalFen), code).toBe(booksPaid);
    }
  });

  it('a notice with a published list: total and household count are the list in the books', async () => {
    for (const id of [fixture.notices.paid, fixture.notices.open]) {
      const notice = await json<NoticeJson>(`/api/n/${county}/${id}`);
      expect(notice.linesFrom).toBe('published');
      expect(notice.lines.length).toBeGreaterThan(0);
      expect(notice.lines.map((l) => l.lineNo)).toEqual(notice.lines.map((_, i) => i + 1));
      expect(big(notice.amountTotalFen)).toBe(total(notice.lines, (l) => l.amountFen));
      const listed = await listedTotals(books.db, county, id);
      expect(notice.lineCount).toBe(listed.lineCount);
      expect(big(notice.amountTotalFen)).toBe(listed.amountTotalFen);
      const html = (await app.inject(`/n/${county}/${id}`)).body;
      expect(htmlTotal(html, 'amount')).toBe(formatYuan(big(notice.amountTotalFen)));
      expect(htmlTotal(html, 'households')).toBe(String(listed.lineCount));
    }
  });

  it('a notice without a list (the roster result): its lines are the roster payments in the books', async () => {
    const notice = await json<NoticeJson>(`/api/n/${county}/${fixture.notices.roster}`);
    expect(notice.linesFrom).toBe('payments');
    expect(big(notice.amountTotalFen)).toBe(total(notice.lines, (l) => l.amountFen));
    const { sum, n } = await books.db
      .selectFrom('payments')
      .select((eb) => [eb.fn.sum<string>('amount_fen').as('sum'), eb.fn.countAll<string>().as('n')])
      .where('partition', '=', county)
      .where('roster_id', '=', 'roster-1')
      .executeTakeFirstOrThrow();
    expect(big(notice.amountTotalFen)).toBe(BigInt(sum));
    expect(notice.lineCount).toBe(Number(n));
    expect(notice.maskingVersion).toBe(1);
  });

  it('the notice period: start, end, days left and status from the programme minimum', async () => {
    const closed = await json<NoticeJson>(`/api/n/${county}/${fixture.notices.paid}`);
    expect(closed.period).toMatchObject({ phase: 'ended', days: 8, daysLeft: 0, minDays: 7 });
    const open = await json<NoticeJson>(`/api/n/${county}/${fixture.notices.open}`);
    expect(open.period.phase).toBe('open');
    // 2026-06-01 … 2099-12-31, both days included.
    expect(open.period.daysLeft).toBe((Date.parse('2099-12-31') - Date.parse(today)) / 86_400_000 + 1);
  });
});

describe('公示名单: the list is public before anyone is paid', () => {
  it('an open notice lists its proposed households, none paid yet, masked names, amounts in full', async () => {
    const notice = await json<NoticeJson>(`/api/n/${county}/${fixture.notices.open}`);
    expect(notice.period.phase).toBe('open');
    expect(notice.lines).toHaveLength(5);
    expect(notice.lines.every((l) => l.paymentStatus === null)).toBe(true);
    expect(notice.paidCount).toBe(0);
    expect(notice.lines.every((l) => /\*/.test(l.name))).toBe(true);
    expect(notice.lines.map((l) => l.amountFen)).toEqual(['300000', '310000', '320000', '330000', '340000']);
    const html = (await app.inject(`/n/${county}/${fixture.notices.open}`)).body;
    expect(html).toContain('本名单随公示一同发布');
    expect(html).toContain('待发放');
    // The region's notice list and the county's Atom feed say how many households are listed.
    expect((await app.inject(`/r/${county}`)).body).toContain('名单 5 户');
    expect((await app.inject(`/feeds/r/${county}/notices.atom`)).body).toContain(
      '名单 5 户，合计 16,000.00 元',
    );
  });

  it('each line of the paid notice shows whether it was paid, objected to, or the objection upheld', async () => {
    const notice = await json<NoticeJson>(`/api/n/${county}/${fixture.notices.paid}`);
    const byStatus = (f: (l: NoticeJson['lines'][number]) => boolean) => notice.lines.filter(f).length;
    const n = notice.lines.length;
    // The last two lines: one objection upheld, one still open; neither is paid.
    expect(notice.lines[n - 2]).toMatchObject({ objection: 'upheld', paymentStatus: null });
    expect(notice.lines[n - 1]).toMatchObject({ objection: 'open', paymentStatus: null });
    expect(
      byStatus((l) => l.paymentStatus === 'settled') + byStatus((l) => l.paymentStatus === 'instructed'),
    ).toBe(n - 2);
    const { sum } = await books.db
      .selectFrom('payments')
      .select((eb) => eb.fn.sum<string>('amount_fen').as('sum'))
      .where('partition', '=', county)
      .where('notice_id', '=', fixture.notices.paid)
      .where('status', '=', 'settled')
      .executeTakeFirstOrThrow();
    expect(big(notice.paidTotalFen)).toBe(BigInt(sum));
    const html = (await app.inject(`/n/${county}/${fixture.notices.paid}`)).body;
    expect(html).toContain('异议成立，不予发放');
    expect(html).toContain('异议处理中');
    expect(html).toContain('已到账');
  });

  it('ledger-api refuses a payment under the notice to a household not on its list, or at another amount (未经公示)', async () => {
    const token = await signToken(
      fixture.jwtSecret,
      { sub: 'test-finance', role: 'finance', org: '财政局', partitions: [county] },
      600,
    );
    const pay = async (householdId: string, amountFen: string, quantity: number) => {
      const response = await fetch(`${fixture.urls.ledger}/v1/partitions/${county}/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          commandId: `unlisted-${householdId}-${amountFen}`,
          paymentId: `pay-unlisted-${householdId}-${amountFen}`,
          householdId,
          programmeCode: 'dibao_class1',
          period: '2024-10',
          quantity,
          amountFen,
          accountId: 'pool',
          noticeId: fixture.notices.paid,
        }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { error?: { code: string; message: string } },
      };
    };
    const unlisted = fixture.households.find((h) => h.householdId === fixture.notices.unlisted)!;
    const off = await pay(unlisted.householdId, '15000', unlisted.members.length);
    expect(off.status).toBe(422);
    expect(off.body.error?.code).toBe('not_on_notice');
    expect(off.body.error?.message).toContain('未经公示');
    // A listed household at another amount than its line.
    const upheld = fixture.households.find((h) => h.householdId === fixture.notices.upheld)!;
    const other = await pay(upheld.householdId, '1', upheld.members.length);
    expect(other.status).toBe(422);
    expect(other.body.error?.code).toBe('not_on_notice');
  });
});

describe('no personal number of the test data on any page or feed', () => {
  it('renders every page of the county and finds no clear ID number, bank account or phone', async () => {
    const urls = new Set<string>(['/', '/r/000000', '/r/410000', '/r/411300', `/r/${county}`]);
    const county_ = await json<RegionJson>(`/api/r/${county}`);
    for (const t of county_.progress) urls.add(`/r/${t.place.code}`);
    for (const v of fixture.villages) urls.add(`/r/${v}`);
    for (const n of county_.notices) urls.add(`/n/${county}/${n.noticeId}`);
    const all = [...urls];
    for (const url of all) {
      if (url.startsWith('/r/')) {
        const code = url.slice(3);
        urls.add(`/api/r/${code}`);
        urls.add(`/feeds/r/${code}/notices.atom`);
        urls.add(`/feeds/r/${code}/allocations.atom`);
      }
      if (url.startsWith('/n/')) urls.add(`/api${url}`);
    }
    // Every line's 证明 page and the notices' publication proofs, as villagers open them.
    for (const n of county_.notices) {
      const notice = await json<ProofLinks>(`/api/n/${county}/${n.noticeId}`);
      for (const l of notice.lines) if (l.proofUrl !== null) urls.add(l.proofUrl);
      if (notice.publishedProofUrl !== null) urls.add(notice.publishedProofUrl);
    }
    const secrets: string[] = [];
    for (const h of fixture.households) {
      if (h.phone) secrets.push(h.phone.replace(/\D/g, ''));
      if (h.account) secrets.push(h.account.number.replace(/\D/g, ''));
      for (const m of h.members) {
        secrets.push(m.idNumber.toUpperCase());
        // A three-character clear name is specific enough that finding it means a leak.
        if (Array.from(m.name).length >= 3) secrets.push(m.name);
      }
    }
    expect(secrets.length).toBeGreaterThan(fixture.households.length * 2);
    let pages = 0;
    for (const url of urls) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(200);
      pages++;
      // Digits only, so a number split by separators or markup is still caught.
      const body = response.body;
      const digits = body.replace(/[^0-9Xx]/g, '').toUpperCase();
      for (const secret of secrets) {
        if (/^[0-9X]+$/.test(secret))
          expect(digits.includes(secret), `${url} shows ${secret.slice(0, 3)}…`).toBe(false);
        else expect(body.includes(secret), `${url} shows a clear name`).toBe(false);
      }
    }
    expect(pages).toBeGreaterThan(3 * fixture.villages.length);
  });
});

interface ProofLinks {
  lines: {
    lineNo: number;
    name: string;
    villageName: string;
    amountFen: string;
    seq: string;
    proofUrl: string | null;
  }[];
  publishedProofUrl: string | null;
  checkpoint: { stream: string; size: number; rootHashHex: string } | null;
}

describe('证明: a notice line’s proof for villagers and for fundtrace verify', () => {
  it('is a readable Chinese page; the same link asked for JSON is an evidence bundle that verifies', async () => {
    const notice = await json<ProofLinks>(`/api/n/${county}/${fixture.notices.paid}`);
    const line = notice.lines.find((l) => l.proofUrl !== null)!;
    const size = notice.checkpoint!.size;
    expect(line.proofUrl).toBe(
      `/n/${county}/${fixture.notices.paid}/lines/${line.lineNo}/proof?size=${size}`,
    );

    // A browser gets a page in Chinese: what is proven, at which position, under which signed root.
    const page = await app.inject({ url: line.proofUrl!, headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers.vary).toContain('accept');
    const body = page.body;
    expect(body).toContain(
      `第 ${line.lineNo} 行（户主 ${line.name}，${line.villageName}，金额 ${formatYuan(big(line.amountFen))} 元）`,
    );
    expect(body).toContain(`<strong>第 ${line.seq} 条记录</strong>`);
    expect(body).toContain(`共有 <strong>${size}</strong> 条记录`);
    expect(body).toContain(notice.checkpoint!.rootHashHex);
    expect(body).toContain('（北京时间）');
    expect(body).toContain('这是什么意思');
    expect(body).toMatch(/<a href="\/api\/n\/[^"]+\/proof\?size=\d+" download>下载证明 \(JSON\)<\/a>/);
    expect(body).not.toContain('"leafIndex"');

    // The same link with Accept: application/json, and the page's download link: one bundle.
    const negotiated = await app.inject({ url: line.proofUrl!, headers: { accept: 'application/json' } });
    expect(negotiated.statusCode).toBe(200);
    expect(negotiated.headers['content-type']).toContain('application/json');
    const download = await app.inject(`/api${line.proofUrl!}`);
    expect(download.headers['content-disposition']).toContain('attachment');
    expect(download.body).toBe(negotiated.body);
    const bundle = negotiated.json() as { leafIndex: number; leafHash: string; event?: string };
    // The event carries household ids: the bundle proves it by its hash, without its bytes.
    expect(bundle.event).toBeUndefined();
    const { verifierKey } = (await (await fetch(`${fixture.urls.logKeeper}/v1/verifier-key`)).json()) as {
      verifierKey: string;
    };
    const verified = verifyBundle(bundle, verifierKey);
    // The page names the root as the note and `fundtrace verify` print it, too (base64).
    expect(body).toContain(Buffer.from(notice.checkpoint!.rootHashHex, 'hex').toString('base64'));
    expect(verified).toMatchObject({
      ok: true,
      kind: 'inclusion',
      treeSize: size,
      leafIndex: Number(line.seq) - 1,
    });
    // The log-keeper, asked directly, proves the same leaf at the same position.
    const keeper = (await (
      await fetch(
        `${fixture.urls.logKeeper}/v1/streams/${notice.checkpoint!.stream}/proof/inclusion?seq=${line.seq}&size=${size}`,
      )
    ).json()) as { leafHash: string };
    expect(bundle.leafHash).toBe(keeper.leafHash);

    // The notice's publication has its proof page too.
    const published = await app.inject(notice.publishedProofUrl!);
    expect(published.statusCode).toBe(200);
    expect(published.body).toContain('的发布记录记在');
  });

  it('answers an unknown line, a bad address or an unsigned size with a Chinese page (JSON for JSON)', async () => {
    const base = `/n/${county}/${fixture.notices.paid}`;
    const missing = await app.inject(`${base}/lines/9999/proof`);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('第 9999 行');
    const bad = await app.inject(`${base}/lines/first/proof`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('网址有误');
    // A size no log of this test reaches: the log-keeper may well have signed a checkpoint of size
    // 1 (it signs whatever size the log has when its timer fires), and then size=1 is a real
    // checkpoint that the line comes after (CI 23 Nov 06:20).
    const unsigned = await app.inject(`${base}/lines/1/proof?size=900000000`);
    expect(unsigned.statusCode).toBe(404);
    expect(unsigned.body).toContain('大小为 900000000 的签名检查点');
    const json404 = await app.inject({
      url: `${base}/lines/9999/proof`,
      headers: { accept: 'application/json' },
    });
    expect(json404.statusCode).toBe(404);
    expect(json404.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('cache: a page served many times costs one build', () => {
  it('answers 1,000 requests for a village page with one build, ETag and 304', async () => {
    // A board whose version poll does not fire during the test: the version is fixed, so every
    // one of the 1,000 answers must come from the one build.
    const frozen = await boardFor(fixture, { today: () => today }, { NOTICE_CHECKPOINT_POLL_MS: '60000' });
    try {
      const village = fixture.villages[0]!;
      const first = await frozen.inject(`/r/${village}`);
      expect(first.statusCode).toBe(200);
      const etag = first.headers.etag as string;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(first.headers['cache-control']).toContain('max-age=');
      const before = frozen.pageCache.stats();
      const answers = await Promise.all(Array.from({ length: 1_000 }, () => frozen.inject(`/r/${village}`)));
      const after = frozen.pageCache.stats();
      expect(after.version).toBe(before.version);
      expect(after.builds).toBe(before.builds);
      expect(after.hits - before.hits).toBe(1_000);
      expect(new Set(answers.map((a) => a.headers.etag))).toEqual(new Set([etag]));
      expect(answers.every((a) => a.body === first.body)).toBe(true);
      const revalidated = await frozen.inject({ url: `/r/${village}`, headers: { 'if-none-match': etag } });
      expect(revalidated.statusCode).toBe(304);
      expect(revalidated.body).toBe('');
      const stale = await frozen.inject({ url: `/r/${village}`, headers: { 'if-none-match': '"other"' } });
      expect(stale.statusCode).toBe(200);
    } finally {
      await frozen.close();
    }
  });

  it('rebuilds once the books move (a filed objection appears on the notice)', async () => {
    const url = `/n/${county}/${fixture.notices.open}`;
    const before = await app.inject(url);
    const response = await app.inject({
      method: 'POST',
      url: `${url}/objections`,
      payload: new URLSearchParams({ summary: '第三户去年已经搬走了', line: '' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode).toBe(201);
    const deadline = Date.now() + 60_000;
    let after = before;
    while (Date.now() < deadline && !after.body.includes('第三户去年已经搬走了')) {
      await new Promise((r) => setTimeout(r, 250));
      after = await app.inject(url);
    }
    expect(after.body).toContain('第三户去年已经搬走了');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    // The acknowledgement leads back by another address than the notice's, so a browser does not
    // show its cached copy (max-age) without the objection; that address serves the same notice.
    const back = /<a href="([^"]+)">返回公示<\/a>/.exec(response.body)?.[1];
    expect(back).toMatch(new RegExp(`^${url}\\?filed=obj-[0-9a-f-]{36}$`));
    const followed = await app.inject(back!);
    expect(followed.statusCode).toBe(200);
    expect(followed.body).toBe(after.body);
  });

  it("moves the notices feed's <updated> when an objection is filed and when it is resolved", async () => {
    const noticeId = fixture.notices.open;
    const feedUrl = `/feeds/r/${county}/notices.atom`;
    const updatedOf = (feed: string) => ({
      feed: /^<updated>([^<]+)<\/updated>$/m.exec(feed)?.[1],
      entry: new RegExp(
        `<id>tag:[^<]+:notice/${county}/${noticeId}</id>\\n<title>[^<]*</title>\\n<link [^>]+/>\\n<updated>([^<]+)</updated>`,
      ).exec(feed)?.[1],
    });
    const recordedAt = async (type: string, objectionId: string) => {
      const row = await books.db
        .selectFrom('events')
        .select('recorded_at')
        .where('type', '=', type)
        .where(sql<boolean>`data->>'objectionId' = ${objectionId}`)
        .executeTakeFirstOrThrow();
      return row.recorded_at.toISOString();
    };
    const feedUntil = async (changed: (updated: ReturnType<typeof updatedOf>) => boolean) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const updated = updatedOf((await app.inject(feedUrl)).body);
        if (changed(updated) || Date.now() > deadline) return updated;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const before = updatedOf((await app.inject(feedUrl)).body);
    expect(before.entry).toBeDefined();

    const filed = await app.inject({
      method: 'POST',
      url: `/n/${county}/${noticeId}/objections`,
      payload: new URLSearchParams({ summary: '名单第二户家里有人在县城上班', line: '2' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(filed.statusCode).toBe(201);
    const objectionId = /\?filed=(obj-[0-9a-f-]{36})/.exec(filed.body)![1]!;
    const afterFiling = await feedUntil((u) => u.entry !== before.entry);
    expect(afterFiling.entry).toBe(await recordedAt('ObjectionFiled', objectionId));
    expect(afterFiling.feed).toBe(afterFiling.entry);

    const token = await signToken(
      fixture.jwtSecret,
      { sub: 'test-finance', role: 'finance', org: '财政局', partitions: [county] },
      600,
    );
    const resolved = await fetch(`${fixture.urls.ledger}/v1/partitions/${county}/objection-resolutions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        commandId: `resolve-${objectionId}`,
        objectionId,
        outcome: 'dismissed',
        note: '经核实，该户无人在外就业',
      }),
    });
    expect(resolved.status, await resolved.text()).toBeLessThan(300);
    const afterResolution = await feedUntil((u) => u.entry !== afterFiling.entry);
    expect(afterResolution.entry).toBe(await recordedAt('ObjectionResolved', objectionId));
    expect(afterResolution.feed).toBe(afterResolution.entry);
  });
});

describe('the objection form', () => {
  const post = (
    payload: Record<string, string>,
    noticeId = fixture.notices.open,
    remoteAddress = '10.0.0.1',
  ) =>
    app.inject({
      method: 'POST',
      url: `/n/${county}/${noticeId}/objections`,
      payload: new URLSearchParams(payload).toString(),
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const withoutId = (body: string) => body.replace(/obj-[0-9a-f-]{36}/g, 'obj-…');

  it('answers the same for a line on the notice, a line that is not, and the whole notice', async () => {
    const a = await post({ summary: '请核实', line: '1' }, fixture.notices.paid, '10.0.1.1');
    const b = await post({ summary: '请核实', line: '999' }, fixture.notices.paid, '10.0.1.2');
    const c = await post({ summary: '请核实', line: '' }, fixture.notices.paid, '10.0.1.3');
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([201, 201, 201]);
    expect(withoutId(a.body)).toBe(withoutId(b.body));
    expect(withoutId(b.body)).toBe(withoutId(c.body));
  });

  it('escapes what it echoes and hides personal numbers before sending', async () => {
    const id = fixture.households[0]!.members[0]!.idNumber;
    const response = await post(
      { summary: `<script>alert(1)</script> 身份证 ${id} 电话 138 0013 8000`, line: '' },
      undefined,
      '10.0.2.1',
    );
    expect(response.statusCode).toBe(201);
    expect(response.body).not.toContain('<script>alert');
    expect(response.body).toContain('&lt;script&gt;');
    expect(response.body).not.toContain(id);
    expect(response.body.replace(/\D/g, '')).not.toContain('13800138000');
    const stored = await waitRows(() =>
      books.db.selectFrom('objections').select('summary').where('summary', 'like', '%alert%').execute(),
    );
    expect(stored.length).toBe(1);
    expect(stored[0]!.summary).not.toContain(id);
    expect(stored[0]!.summary).toContain('******');
  });

  it('refuses empty and over-long text, and bodies over the size limit', async () => {
    expect((await post({ summary: '   ', line: '' }, undefined, '10.0.3.1')).statusCode).toBe(400);
    expect((await post({ summary: '字'.repeat(501), line: '' }, undefined, '10.0.3.2')).statusCode).toBe(400);
    const exact = await post({ summary: '字'.repeat(500), line: '' }, undefined, '10.0.3.3');
    expect(exact.statusCode).toBe(201);
    expect((await post({ summary: 'x'.repeat(20_000), line: '' }, undefined, '10.0.3.4')).statusCode).toBe(
      413,
    );
    expect((await post({ summary: '请核实', line: 'abc' }, undefined, '10.0.3.5')).statusCode).toBe(400);
  });

  it('limits filings per address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await post({ summary: `第${i}次`, line: '' }, undefined, '10.0.4.1')).statusCode);
    expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // Another address is not affected.
    expect((await post({ summary: '另一位村民', line: '' }, undefined, '10.0.4.2')).statusCode).toBe(201);
  });

  it('says "try later" when ledger-api is unreachable, and 404 for an unknown notice', async () => {
    const offline = await boardFor(fixture, {}, { LEDGER_API_URL: 'http://127.0.0.1:9' });
    try {
      const response = await offline.inject({
        method: 'POST',
        url: `/n/${county}/${fixture.notices.open}/objections`,
        payload: new URLSearchParams({ summary: '请核实', line: '' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('暂时无法受理');
    } finally {
      await offline.close();
    }
    expect((await post({ summary: '请核实', line: '' }, 'no-such-notice', '10.0.5.1')).statusCode).toBe(404);
  });
});

describe('routes refuse what is not a region or a notice', () => {
  it('404 for a region without books, 400 for a malformed code', async () => {
    expect((await app.inject('/r/430626')).statusCode).toBe(404);
    expect((await app.inject('/r/41132')).statusCode).toBe(400);
    expect((await app.inject('/r/411325999999')).statusCode).toBe(404);
    expect((await app.inject(`/n/${county}/nope`)).statusCode).toBe(404);
    expect((await app.inject('/api/n/411325/%3Cscript%3E')).statusCode).toBe(400);
  });

  it('a mistyped address of a page answers a page in Chinese, not the JSON of the API', async () => {
    for (const url of ['/r/41132', '/r/41132510520199', `/n/${county}/%E5%85%AC%E7%A4%BA`, '/n/4113/N-1']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(response.body, url).toContain('<h1>网址有误</h1>');
    }
    const api = await app.inject('/api/n/411325/%3Cscript%3E');
    expect(api.json().error.code).toBe('validation_failed');
  });
});

async function waitRows<T>(query: () => Promise<T[]>): Promise<T[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await query();
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 250));
  }
}
