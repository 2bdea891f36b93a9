import { ledger } from '@fundtrace/events';
import { isFormulaLike } from '@fundtrace/tabular';
import { recordReliability, waitUntil } from '@fundtrace/testkit';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from './support/csv';
import { rawRequest } from './support/http';
import { findLeaks, needlesOf, serviceTexts } from './support/privacy';
import { exampleParams, fillPath, productRoutes, type Route, requiredQuery } from './support/routes';
import { useProduct } from './support/services';

/**
 * The public face of the product, as an attacker and a reader meet it: per-address rate limits
 * and size limits on the notice board, security headers on every route of every service, the
 * objection form against markup, script and SQL-ish payloads, spreadsheet exports against formula
 * injection, and at the end a grep of everything this run produced (every service's log and
 * /metrics, every error body, every public page and feed) for the households' clear personal
 * data and the product's secrets.
 */

const product = useProduct();
/** The board's default page limit per address per minute (NOTICE_PAGES_PER_MINUTE). */
const pagesPerMinute = 600;
/** The log-keeper's default limit per address per minute (LOG_REQUESTS_PER_MINUTE). */
const logRequestsPerMinute = 1_200;
/** Texts the privacy grep reads at the end: every body this file received. */
const produced: Array<{ where: string; text: string }> = [];
let routes: Route[];
let finance: string;
let inspector: string;

/** A loopback address of its own per reader, so per-address limits of one test do not touch another. */
let nextAddress = 10;
const newReader = () => `127.0.0.${nextAddress++}`;

async function board(
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; from?: string } = {},
) {
  const response = await rawRequest(`${product.urls['notice-board']}${path}`, {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
    localAddress: init.from ?? '127.0.0.1',
  });
  produced.push({
    where: `notice-board ${init.method ?? 'GET'} ${path} → ${response.status}`,
    text: response.text,
  });
  return response;
}

/**
 * Sends `count` GETs to `url` from address `from`, eight at a time, and counts the answers by status
 * (every 429 must name too_many_requests). The limits are per minute from an address's first
 * request: one request after another took 24 s for the log-keeper's 1,220 at load 20, so a slower
 * moment would have let the window end mid-test and the count start again (no 429 where one is due).
 * Eight in flight finish well inside the window; the counts say the same as "the first refusal is
 * request limit + 1".
 */
async function burst(url: string, from: string, count: number): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  let sent = 0;
  const sender = async () => {
    while (sent < count) {
      sent++;
      const { status, text } = await rawRequest(url, { method: 'GET', localAddress: from });
      counts[status] = (counts[status] ?? 0) + 1;
      if (status === 429) expect(JSON.parse(text).error.code).toBe('too_many_requests');
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
  return counts;
}

const objection = (summary: string, line = '') => new URLSearchParams({ summary, line }).toString();
const form = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  routes = await productRoutes(product);
  finance = await product.token('finance', ['*']);
  inspector = await product.token('inspector', [product.county]);
});

describe('public endpoints', () => {
  it('sets security headers on every route of every service (CSP with frame-ancestors, nosniff, Referrer-Policy)', async () => {
    const missing: string[] = [];
    const params = exampleParams(product);
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const url = `${product.urls[route.service]}${fillPath(route.path, params)}${requiredQuery(route)}`;
      const response = await rawRequest(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${route.service === 'audit-api' ? inspector : finance}` },
      });
      const h = response.headers;
      const csp = String(h['content-security-policy'] ?? '');
      if (!/frame-ancestors/.test(csp))
        missing.push(`${route.key}: Content-Security-Policy without frame-ancestors`);
      if (!/default-src/.test(csp)) missing.push(`${route.key}: Content-Security-Policy without default-src`);
      if (h['x-content-type-options'] !== 'nosniff') missing.push(`${route.key}: X-Content-Type-Options`);
      if (h['referrer-policy'] === undefined) missing.push(`${route.key}: Referrer-Policy`);
      if (h['x-frame-options'] === undefined) missing.push(`${route.key}: X-Frame-Options`);
    }
    expect(missing).toEqual([]);
  });

  it('limits pages per address: past the limit 429 too_many_requests, another address still served, /health never limited', async () => {
    const scraper = newReader();
    const path = `/r/${product.county}`;
    expect(await burst(`${product.urls['notice-board']}${path}`, scraper, pagesPerMinute + 20)).toEqual({
      200: pagesPerMinute,
      429: 20,
    });
    expect((await board(path, { from: newReader() })).status).toBe(200);
    expect((await board('/health', { from: scraper })).status).toBe(200);
  });

  it("limits the log-keeper's public proofs per address too", async () => {
    const scraper = newReader();
    const url = `${product.urls['log-keeper']}/v1/streams/LEDGER_${product.county}/checkpoint`;
    expect(await burst(url, scraper, logRequestsPerMinute + 20)).toEqual({
      200: logRequestsPerMinute,
      429: 20,
    });
    expect((await rawRequest(url, { method: 'GET', localAddress: newReader() })).status).toBe(200);
  });

  it('limits objections per address and refuses an oversized form or URL', async () => {
    const reader = newReader();
    const notice = `/n/${product.county}/${product.notices.open}/objections`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (
          await board(notice, {
            method: 'POST',
            headers: form,
            body: objection(`第${i}次异议`),
            from: reader,
          })
        ).status,
      );
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    const before = await product.streamSequences();
    const huge = await board(notice, {
      method: 'POST',
      headers: form,
      body: objection('长'.repeat(100_000)),
      from: newReader(),
    });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.text).error.code).toBe('payload_too_large');
    const tooLong = await board(notice, {
      method: 'POST',
      headers: form,
      body: objection('长'.repeat(ledger.ledgerTextLengthMax + 1)),
      from: newReader(),
    });
    expect(tooLong.status).toBe(400);
    const longUrl = await board(`/r/${product.county}?q=${'a'.repeat(20_000)}`, { from: newReader() });
    expect([414, 431]).toContain(longUrl.status);
    expect(await product.appendedSince(before)).toEqual([]);
  });

  it('echoes hostile objections escaped and masked, stores them as text, and shows them escaped on the notice', async () => {
    const id = product.households[0]!.members[0]!.idNumber;
    const payloads = [
      '<script>alert(1)</script>',
      '"><img src=x onerror=alert(1)>',
      "'; DROP TABLE books.objections; --",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection payload, literally
      '<a href="javascript:alert(1)">点我</a>{{7*7}}${7*7}',
      `身份证${id}电话13800138000卡号6222020200112233445`,
    ];
    const notice = `/n/${product.county}/${product.notices.open}`;
    for (const summary of payloads) {
      const before = await product.streamSequences();
      const answer = await board(`${notice}/objections`, {
        method: 'POST',
        headers: form,
        body: objection(summary),
        from: newReader(),
      });
      expect(answer.status).toBe(201);
      expect(answer.text).not.toMatch(/<script>alert|<img src=x|<a href="javascript/);
      expect(answer.text).not.toContain(id);
      expect(answer.text).not.toContain('13800138000');
      // Exactly one event: the objection, as text.
      const grown = await product.appendedSince(before);
      expect(grown).toHaveLength(1);
      expect(grown[0]).toMatch(/_LEDGER_411325: (\d+) → (\d+)$/);
      const [, from, to] = /: (\d+) → (\d+)$/.exec(grown[0]!)!;
      expect(Number(to) - Number(from)).toBe(1);
    }
    expect(
      answerEscapes(
        (
          await board(`${notice}/objections`, {
            method: 'POST',
            headers: form,
            body: objection(payloads[0]!),
            from: newReader(),
          })
        ).text,
      ),
    ).toBe(true);
    await product.waitForCatchUp();
    // The board drops its page cache when it sees the books move (it polls every 200 ms here).
    let page = await board(notice, { from: newReader() });
    await waitUntil(
      async () => {
        page = await board(notice, { from: newReader() });
        return page.text.includes('DROP TABLE');
      },
      60_000,
      () => 'the notice page never showed the objections',
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).toContain('DROP TABLE books.objections');
    expect(page.text).not.toMatch(/<script>alert|<img src=x|<a href="javascript/);
    const feed = await board(`/feeds/r/${product.county}/notices.atom`, { from: newReader() });
    expect(feed.text).not.toMatch(/<script>alert|<img src=x/);
    recordReliability({
      suite: 'bad-input',
      name: 'objection form injection',
      injected:
        'HTML, script, attribute-breaking, javascript: links, template and SQL-ish payloads, and ID/phone/bank numbers in the objection form',
      iterations: payloads.length + 1,
      checked:
        'answer and notice page show the text escaped, numbers masked; one FileObjection event each; books intact',
      result: 'passed',
    });
  });

  it('exports spending progress as CSV and XLSX in which no cell is a formula, whatever the documents say', async () => {
    const hostile = [
      '=HYPERLINK("http://evil.example","点我")',
      '+1+1',
      '-2+3',
      '@SUM(A1)',
      '\t=1',
      '\r=1',
      '＝1+1',
      "=cmd|' /C calc'!A0",
    ];
    const books = `${product.urls['ledger-api']}/v1/partitions/${product.county}`;
    for (const [i, documentNumber] of hostile.entries()) {
      // A receipt from outside opens a tranche under its document number (文号): the export's key.
      const response = await fetch(`${books}/receipts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${finance}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          commandId: `export-${i}`,
          receiptId: `r-hostile-${i}`,
          accountId: 'pool',
          amountFen: String(100 + i),
          origin: {
            kind: 'external',
            payer: documentNumber,
            documentNumber,
            fundSource: 'county',
            purpose: 'general',
            fiscalYear: 2024,
          },
        }),
      });
      expect(response.status, await response.text()).toBeLessThan(300);
    }
    await product.waitForCatchUp();
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    // One fiscal year per report: the allocations were booked today.
    const query = `by=allocation&from=${today.slice(0, 4)}-01-01&to=${today}`;
    const audit = `${product.urls['audit-api']}/v1/partitions/${product.county}/progress?${query}`;
    const get = (format: string) =>
      fetch(`${audit}&format=${format}`, { headers: { authorization: `Bearer ${inspector}` } });

    const csv = await (await get('csv')).text();
    const cells = parseCsv(csv.replace(/^\ufeff/, ''));
    const executable = cells.flat().filter(isFormulaLike);
    expect(executable).toEqual([]);
    for (const value of hostile) expect(cells.flat()).toContain(`'${value}`);

    const xlsx = Buffer.from(await (await get('xlsx')).arrayBuffer());
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
    const texts: string[] = [];
    let formulas = 0;
    workbook.eachSheet((sheet) =>
      sheet.eachRow((row) =>
        row.eachCell((cell) => {
          if (cell.type === ExcelJS.ValueType.Formula || cell.formula !== undefined) formulas++;
          if (typeof cell.value === 'string') texts.push(cell.value);
        }),
      ),
    );
    expect(formulas).toBe(0);
    // In XLSX the text stays what was typed, as a string cell: a spreadsheet never runs it (XML
    // carries CR and tab escaped, so they are compared without them).
    const bare = (t: string) => t.replace(/_x000D_|_x0009_|[\r\t]/g, '');
    for (const value of hostile) expect(texts.map(bare)).toContain(bare(value));
    recordReliability({
      suite: 'bad-input',
      name: 'formula injection in exports',
      injected: `${hostile.length} receipts whose document numbers start with = + - @ tab CR ＝, exported as CSV and XLSX`,
      iterations: hostile.length * 2,
      checked: 'CSV: every such cell prefixed with a quote; XLSX: string cells only, no formula',
      result: 'passed',
    });
  });
});

function answerEscapes(text: string): boolean {
  return text.includes('&lt;script&gt;alert(1)&lt;/script&gt;');
}

describe('privacy', () => {
  it('no clear personal data and no secret in any log, /metrics, error body, public page or feed', async () => {
    const needles = needlesOf(product);
    // The grep is live: the households as typed contain every kind it looks for.
    const control = findLeaks([{ where: 'control', text: JSON.stringify(product.households) }], needles);
    expect(new Set(control.map((l) => l.kind))).toEqual(
      new Set(['ID number', 'phone number', 'bank account', 'full name', 'health condition']),
    );
    // Provoke the error bodies most likely to echo personal data.
    const registry = `${product.urls['registry-api']}/v1/partitions/${product.county}`;
    const registryToken = await product.token('registry', [product.county]);
    const household = product.households[0]!;
    const provocations: Array<[string, unknown]> = [
      ['households', { commandId: 'privacy-dup', household }],
      [
        'households',
        {
          commandId: 'privacy-bad',
          household: {
            ...household,
            householdId: 'H-privacy',
            members: [
              { ...household.members[0], idNumber: `${household.members[0]!.idNumber.slice(0, 17)}0` },
            ],
          },
        },
      ],
      ['households/search-by-id-number', { idNumber: `${household.members[0]!.idNumber.slice(0, 17)}0` }],
      [
        'households/search-by-id-number',
        { idNumber: household.members[0]!.idNumber, extra: household.account?.number },
      ],
    ];
    for (const [path, body] of provocations) {
      const response = await fetch(`${registry}/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${registryToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status >= 400)
        produced.push({ where: `registry-api POST ${path} → ${response.status}`, text });
    }
    // Every public page and feed, following links from the home page.
    const seen = new Set<string>();
    const queue = ['/', `/r/${product.county}`];
    const from = newReader();
    while (queue.length > 0 && seen.size < 300) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const page = await board(path, { from });
      for (const [, href] of page.text.matchAll(/href="(\/(?:r|n|api|feeds)\/[^"#?]*)"/g)) {
        if (!seen.has(href!)) queue.push(href!);
      }
      const region = /^\/r\/(\d+)$/.exec(path)?.[1];
      if (region !== undefined) {
        for (const extra of [
          `/api/r/${region}`,
          `/feeds/r/${region}/notices.atom`,
          `/feeds/r/${region}/allocations.atom`,
        ])
          queue.push(extra);
      }
      const notice = /^\/n\/(\d+)\/([^/]+)$/.exec(path);
      if (notice) queue.push(`/api/n/${notice[1]}/${notice[2]}`);
    }
    expect(seen.size).toBeGreaterThan(10);
    const texts = [...produced, ...(await serviceTexts(product))];
    const leaks = findLeaks(texts, needles);
    recordReliability({
      suite: 'privacy',
      name: 'public endpoints run',
      injected: `${needles.length} clear values (ID numbers, bank accounts, phones, health conditions, full names of ${product.households.length} households; JWT secret, PII keys, HMAC key, signing key) looked for`,
      iterations: texts.length,
      checked: `every service log and /metrics, ${produced.length} bodies (error bodies, ${seen.size} public pages, feeds and JSON): none found`,
      result: leaks.length === 0 ? 'passed' : 'failed',
      details: { leaks },
    });
    expect(leaks).toEqual([]);
  });
});
