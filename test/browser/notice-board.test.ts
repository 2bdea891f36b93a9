import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceProcess } from '@fundtrace/testkit';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CountyFixture,
  county,
  startBoard,
  startCounty,
} from '../../services/notice-board/test/support/county';

/**
 * A reader on Debian's Chromium: opens the county, a township, a village and a notice of a county
 * written through the real services, files an objection and sees it acknowledged, prints the
 * notice to an A4 PDF. Screenshots and the PDF go to test-output/ (git-ignored) for a human look.
 */

const root = join(import.meta.dirname, '..', '..');
const output = join(root, 'test-output', 'notice-board');

let fixture: CountyFixture;
let board: ServiceProcess;
let boardUrl: string;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  mkdirSync(output, { recursive: true });
  fixture = await startCounty({ households: 24, villages: 4 });
  board = await startBoard(fixture);
  boardUrl = board.url;
  profile = mkdtempSync(join(tmpdir(), 'nb-chromium-'));
  // A fresh profile each run (playwright passes it to Chromium as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    locale: 'zh-CN',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await board?.stop();
  await fixture?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(output, `${name}.png`), fullPage: true });
}

describe('a reader on Chromium', () => {
  it('walks county → township → village → notice, objects, and prints the notice', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 412, height: 915 });
    // Nothing the reader's browser asks for fails and nothing logs an error (a missing favicon
    // was a 404 on every page).
    const failures: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') failures.push(`console: ${message.text()}`);
    });

    await page.goto(`${boardUrl}/r/${county}`);
    await expect(page.locator('h1').textContent()).resolves.toContain('内乡县');
    await expect(page.locator('svg[role="img"]').count()).resolves.toBe(1);
    await shot(page, '1-county');

    const township = fixture.villages[0]!.slice(0, 9);
    await page
      .locator(`#prog ~ table a[href="/r/${township}"], section a[href="/r/${township}"]`)
      .first()
      .click();
    await page.waitForURL(`**/r/${township}`);
    await expect(page.locator('#proj').count()).resolves.toBe(1);
    await shot(page, '2-township');

    const village = fixture.villages[0]!;
    await page.locator(`a[href="/r/${village}"]`).first().click();
    await page.waitForURL(`**/r/${village}`);
    const villageName = (await page.locator('h1').textContent()) ?? '';
    expect(villageName).toContain('村');
    await shot(page, '3-village');

    await page.goto(`${boardUrl}/n/${county}/${fixture.notices.open}`);
    await expect(page.locator('#period').count()).resolves.toBe(1);
    await expect(page.locator('.status-open').textContent()).resolves.toContain('公示中');
    await shot(page, '4-notice-open');

    // The list of a roster paid under a notice whose period is over: lines to object to.
    await page.goto(`${boardUrl}/n/${county}/${fixture.notices.paid}`);
    await expect(page.locator('section[aria-labelledby="lines"] tbody tr').count()).resolves.toBeGreaterThan(
      0,
    );
    await shot(page, '4-notice-list');
    // On the phone each line is a card: its payment status and its 证明 link are on screen, not
    // off to the right of a nine-column table that only scrolled sideways.
    const firstLine = page.locator('section[aria-labelledby="lines"] tbody tr').first();
    for (const cell of [
      firstLine.locator('td[data-label="发放"]'),
      firstLine.locator('a:has-text("证明")'),
    ]) {
      const box = await cell.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x + box!.width).toBeLessThanOrEqual(412);
    }
    await expect(firstLine.locator('td[data-label="发放"]').textContent()).resolves.toMatch(
      /已到账|发放中|银行退回|已冲正/,
    );

    await page.locator('#line').selectOption('1');
    await page.locator('#summary').fill('第1行这户今年已经外出务工，收入超过标准 <b>请核实</b>');
    await page.locator('form button[type="submit"]').click();
    await page.waitForURL(`**/n/${county}/${fixture.notices.paid}/objections`);
    await expect(page.locator('h1').textContent()).resolves.toBe('异议已收到');
    await expect(page.locator('[role="status"]').textContent()).resolves.toContain('受理编号');
    // Echoed as text, not markup.
    await expect(page.locator('blockquote b').count()).resolves.toBe(0);
    await expect(page.locator('blockquote').textContent()).resolves.toContain('<b>请核实</b>');
    await shot(page, '5-objection-acknowledged');

    // Print the notice for the village board: A4, form and links hidden by the print stylesheet.
    await page.goto(`${boardUrl}/n/${county}/${fixture.notices.paid}`);
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('form').isVisible()).resolves.toBe(false);
    await expect(page.locator('section[aria-labelledby="lines"] table').isVisible()).resolves.toBe(true);
    const pdfPath = join(output, 'notice.pdf');
    await page.pdf({ path: pdfPath, format: 'A4', printBackground: true });
    const pdf = readFileSync(pdfPath);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // A4 is 595 × 842 points.
    expect(pdf.toString('latin1')).toMatch(
      /\/MediaBox\s*\[\s*0 0 595(\.\d+)? 841\.\d+|\/MediaBox\s*\[\s*0 0 595(\.\d+)? 842/,
    );
    await page.emulateMedia({ media: 'screen' });
    expect(failures).toEqual([]);
    await page.close();
  });

  it('clicks 证明 on a line and reads what is proven, in Chinese, with the JSON still to download', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 412, height: 915 });
    await page.goto(`${boardUrl}/n/${county}/${fixture.notices.paid}`);
    const firstLine = page.locator('section[aria-labelledby="lines"] tbody tr').first();
    const lineNo = ((await firstLine.locator('td[data-label="行"]').textContent()) ?? '').trim();
    const name = ((await firstLine.locator('td[data-label="户主"]').textContent()) ?? '').trim();
    await firstLine.locator('a:has-text("证明")').click();
    await page.waitForURL(`**/n/${county}/${fixture.notices.paid}/lines/${lineNo}/proof?size=*`);
    // A page, not raw JSON: a heading, what is proven (this line, position N, signed root, Beijing
    // time) and a plain explanation.
    await expect(page.locator('h1').textContent()).resolves.toBe(`第 ${lineNo} 行的证明`);
    const proven = (await page.locator('p.proven').textContent()) ?? '';
    expect(proven).toContain(`第 ${lineNo} 行（户主 ${name}`);
    expect(proven).toMatch(/资金日志（LEDGER_411325）的第 \d+ 条记录中/);
    await expect(page.locator('#plain').isVisible()).resolves.toBe(true);
    await expect(page.locator('section[aria-labelledby="proven"]').textContent()).resolves.toMatch(
      /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}（北京时间）/,
    );
    expect(await page.locator('code[data-root]').textContent()).toMatch(/^[0-9a-f]{64}$/);
    // Fits the phone: nothing scrolls the page sideways.
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, '7-line-proof');
    // The machine-readable proof is one click away, as a file.
    const href = await page.locator('a:has-text("下载证明 (JSON)")').getAttribute('href');
    expect(href).toMatch(/^\/api\/n\//);
    const download = await page.request.get(`${boardUrl}${href}`);
    expect(download.headers()['content-type']).toContain('application/json');
    expect(await download.json()).toMatchObject({ format: 'fundtrace-evidence/v1', kind: 'inclusion' });
    await page.locator('a:has-text("返回公示")').click();
    await page.waitForURL(`**/n/${county}/${fixture.notices.paid}`);
    await page.close();
  });

  it('stays readable with a large default font: no horizontal scrolling on a phone', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${boardUrl}/n/${county}/${fixture.notices.paid}`);
    await page.addStyleTag({ content: ':root{font-size:200%!important}' });
    // Sizes are in rem, so the reader's font setting scales headings and tables alike.
    const h1 = Number(
      await page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)"),
    );
    expect(h1).toBeGreaterThanOrEqual(48);
    // Wide tables scroll inside their own box; the page itself never scrolls sideways.
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, '6-notice-large-font');
    await page.close();
  });
});
