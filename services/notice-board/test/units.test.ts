import { beijingDate, gazetteer, regionLevel } from '@fundtrace/events';
import { describe, expect, it } from 'vitest';
import { PageCache, pageOf } from '../src/cache';
import { formatPercent, perMille, progressChart } from '../src/html/chart';
import { escapeText, html, trusted } from '../src/html/escape';
import { beijingTime, noticePeriod } from '../src/notices/period';
import { programmesFrom } from '../src/notices/programmes';
import { maskObjectionText } from '../src/objections/mask';
import { lineObjectionText } from '../src/pages/views';
import { regionChain } from '../src/regions';

describe('html escaping', () => {
  it('escapes every interpolation, in content and attributes', () => {
    const evil = `"><script>alert('x')</script>&\``;
    const out = html`<a title="${evil}">${evil}</a>`.text;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;</a>',
    );
  });
  it('nests Html without double escaping, joins arrays, drops null/undefined/false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`${inner}${[html`<br>`, '&']}${null}${undefined}${false}${0}`.text).toBe(
      '<b>&lt;i&gt;</b><br>&amp;0',
    );
    expect(html`${trusted('<hr>')}`.text).toBe('<hr>');
  });
  it('a plain object pretending to be Html is escaped as text', () => {
    const fake = { text: '<script>' } as unknown as string;
    expect(html`${fake}`.text).toBe('[object Object]');
    expect(escapeText('a&b')).toBe('a&amp;b');
  });
});

describe('notice period', () => {
  const base = { startsOn: '2024-06-01', endsOn: '2024-06-07', closed: false, minDays: 7 };
  it('counts both ends and days left including today', () => {
    expect(noticePeriod({ ...base, today: '2024-05-31' })).toEqual({
      phase: 'upcoming',
      days: 7,
      daysLeft: 7,
      minDays: 7,
      tooShort: false,
    });
    expect(noticePeriod({ ...base, today: '2024-06-01' })).toMatchObject({ phase: 'open', daysLeft: 7 });
    expect(noticePeriod({ ...base, today: '2024-06-07' })).toMatchObject({ phase: 'open', daysLeft: 1 });
    expect(noticePeriod({ ...base, today: '2024-06-08' })).toMatchObject({ phase: 'ended', daysLeft: 0 });
    expect(noticePeriod({ ...base, closed: true, today: '2024-06-03' })).toMatchObject({
      phase: 'closed',
      daysLeft: 0,
    });
  });
  it('flags a period shorter than the programme minimum, not one exactly at it', () => {
    expect(noticePeriod({ ...base, endsOn: '2024-06-06', today: '2024-06-01' }).tooShort).toBe(true);
    expect(noticePeriod({ ...base, today: '2024-06-01' }).tooShort).toBe(false);
    expect(noticePeriod({ ...base, endsOn: '2024-06-01', minDays: 1, today: '2024-06-01' })).toMatchObject({
      days: 1,
      daysLeft: 1,
    });
  });
  it('refuses malformed dates and a period ending before it starts', () => {
    expect(() => noticePeriod({ ...base, today: '2024-6-1' })).toThrow(RangeError);
    expect(() => noticePeriod({ ...base, endsOn: '2024-02-30', today: '2024-06-01' })).toThrow(RangeError);
    expect(() => noticePeriod({ ...base, endsOn: '2024-05-31', today: '2024-06-01' })).toThrow(
      /before it starts/,
    );
  });
  it('dates in Beijing time: 16:00 UTC is already the next day', () => {
    expect(beijingDate(Date.parse('2024-06-01T15:59:59Z'))).toBe('2024-06-01');
    expect(beijingDate(Date.parse('2024-06-01T16:00:00Z'))).toBe('2024-06-02');
  });
  it("a checkpoint's signing time in Beijing time, the day the dates beside it use", () => {
    expect(beijingTime(Date.parse('2026-11-22T21:15:06.799Z'))).toBe('2026-11-23 05:15:06（北京时间）');
  });
  it('programme minimums come from the reference data, 7 days by default', () => {
    const p = programmesFrom({
      version: 1,
      programmes: [
        { code: 'a', name: '甲', notice: { minDays: 10 } },
        { code: 'b', name: '乙', notice: null },
      ],
    });
    expect([p.minDays('a'), p.minDays('b'), p.minDays('zzz'), p.minDays(null)]).toEqual([10, 7, 7, 7]);
    expect(p.name('a')).toBe('甲');
    expect(() => programmesFrom({ version: 0, programmes: [] })).toThrow();
  });
  it('purpose names from the reference data, without the English gloss for staff', () => {
    const p = programmesFrom({
      version: 1,
      programmes: [],
      purposes: [
        { code: 'general', name: '综合扶贫 (any poverty-alleviation use)' },
        { code: 'housing', name: '住房安全 (危房改造)' },
        { code: 'infrastructure', name: '基础设施建设' },
      ],
    });
    expect(['general', 'housing', 'infrastructure', 'zzz'].map((c) => p.purposeName(c))).toEqual([
      '综合扶贫',
      '住房安全 (危房改造)',
      '基础设施建设',
      'zzz',
    ]);
  });
});

describe("a line's objection", () => {
  it('says 不予发放 only for a line not paid: an objection upheld after payment does not unpay it', () => {
    expect(lineObjectionText('upheld', null)).toBe('异议成立，不予发放');
    expect(lineObjectionText('upheld', 'returned')).toBe('异议成立，不予发放');
    expect(lineObjectionText('upheld', 'instructed')).toBe('异议成立（本行已发放）');
    expect(lineObjectionText('upheld', 'settled')).toBe('异议成立（本行已发放）');
    expect(lineObjectionText('open', 'settled')).toBe('异议处理中');
    expect(lineObjectionText(null, 'settled')).toBe('');
  });
});

describe('objection text masking', () => {
  it('hides ID numbers, phones and bank accounts, however they are spaced', () => {
    expect(maskObjectionText('身份证411325199001011234')).toBe('身份证******');
    expect(maskObjectionText('身份证 41132519900101123X 号')).toBe('身份证 ****** 号');
    expect(maskObjectionText('电话 138-0013-8000')).toBe('电话 ******');
    expect(maskObjectionText('卡号 6228 4800 1234 5678 901')).toBe('卡号 ******');
    expect(maskObjectionText('电话１３８００１３８０００')).toBe('电话******');
  });
  it('keeps short numbers a reader needs: amounts, years, house numbers', () => {
    expect(maskObjectionText('2024年 领了 1500 元，门牌 12 号，座机 123456')).toBe(
      '2024年 领了 1500 元，门牌 12 号，座机 123456',
    );
  });
  it('removes control and bidi characters and trims', () => {
    expect(maskObjectionText('\u202e反向\u0000文字  ')).toBe('反向文字');
    expect(maskObjectionText('   ')).toBe('');
  });
});

describe('chart', () => {
  it('computes shares by integer arithmetic and clamps', () => {
    expect(perMille(1n, 3n)).toBe(333);
    expect(perMille(5n, 0n)).toBe(0);
    expect(perMille(-5n, 10n)).toBe(0);
    expect(perMille(20n, 10n)).toBe(1000);
    expect(formatPercent(2n, 3n)).toBe('66.6%');
  });
  it('draws one bar per area with the figures beside it, escaped', () => {
    const svg = progressChart('进度', [{ label: '<村>', totalFen: 10_000n, spentFen: 2_500n }]).text;
    expect(svg).toContain('&lt;村&gt;');
    expect(svg).toContain('25.0%');
    expect(svg).toContain('25.00 / 100.00 元');
    expect(svg).toContain('width="100"');
  });
});

describe('page cache', () => {
  it('builds once for concurrent misses and drops everything when the version moves', async () => {
    const cache = new PageCache(10);
    cache.setVersion('v1');
    let builds = 0;
    const build = async () => {
      builds++;
      await new Promise((r) => setTimeout(r, 5));
      return pageOf(`page ${builds}`, 'text/plain');
    };
    const pages = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', build)));
    expect(builds).toBe(1);
    expect(new Set(pages.map((p) => p.etag)).size).toBe(1);
    expect(cache.setVersion('v1')).toBe(false);
    await cache.get('k', build);
    expect(builds).toBe(1);
    expect(cache.setVersion('v2')).toBe(true);
    const rebuilt = await cache.get('k', build);
    expect(builds).toBe(2);
    expect(rebuilt.body.toString()).toBe('page 2');
  });
  it('does not keep a page built under an older version, nor a failed build', async () => {
    const cache = new PageCache(10);
    cache.setVersion('v1');
    const slow = cache.get('k', async () => {
      cache.setVersion('v2');
      return pageOf('old', 'text/plain');
    });
    expect((await slow).body.toString()).toBe('old');
    expect(cache.stats().size).toBe(0);
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect((await cache.get('k', async () => pageOf('new', 'text/plain'))).body.toString()).toBe('new');
  });
  it('stays within its bound', async () => {
    const cache = new PageCache(3);
    cache.setVersion('v');
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, async () => pageOf(String(i), 'text/plain'));
    expect(cache.stats().size).toBe(3);
    expect(() => new PageCache(0)).toThrow(RangeError);
  });
});

describe('regions', () => {
  it('knows the five levels and the chain down to a village', () => {
    expect(regionLevel('410000')).toBe('province');
    expect(regionLevel('411300')).toBe('city');
    expect(regionLevel('411325')).toBe('county');
    expect(regionLevel('411325100')).toBe('township');
    expect(regionLevel('411325100201')).toBe('village');
    expect(regionLevel('411325000')).toBeUndefined();
    expect(regionLevel('991325')).toBeUndefined();
    expect(regionChain('411325100201')).toEqual([
      '000000',
      '410000',
      '411300',
      '411325',
      '411325100',
      '411325100201',
    ]);
  });
  it('names from the gazetteer, else level and code', () => {
    const g = gazetteer({ '411325100': '城关镇' });
    expect(g.name('411325')).toBe('内乡县');
    expect(g.name('411325100')).toBe('城关镇');
    expect(g.name('411325100201')).toBe('村 411325100201');
  });
});
