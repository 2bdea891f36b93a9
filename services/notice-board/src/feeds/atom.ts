import { formatYuan } from '@fundtrace/money';
import { escapeText } from '../html/escape';
import type { RegionModel } from '../pages/model';
import { noticeHref, regionHref } from '../pages/views';

/**
 * Atom (RFC 4287) feeds for journalists and researchers: new notices of a county, township or
 * village, and the allocation results of a level. Entry ids are tag URIs built from the books'
 * own ids, so a feed reader sees an entry once however often the feed is regenerated.
 */

/** Tag URI authority (RFC 4151); fixed so ids never change with the host name. */
const tagAuthority = 'fundtrace.example,2024';

interface Entry {
  readonly id: string;
  readonly title: string;
  readonly href: string;
  /** RFC 3339. */
  readonly updated: string;
  readonly summary: string;
}

const x = escapeText;

function feed(input: {
  readonly id: string;
  readonly title: string;
  readonly selfHref: string;
  readonly pageHref: string;
  readonly baseUrl: string;
  readonly entries: readonly Entry[];
}): string {
  // A feed's updated time is its newest entry's, so an unchanged feed is byte-identical (ETag).
  const updated = input.entries.reduce((a, e) => (e.updated > a ? e.updated : a), '1970-01-01T00:00:00Z');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${x(input.id)}</id>
<title>${x(input.title)}</title>
<updated>${x(updated)}</updated>
<author><name>扶贫资金公示栏</name></author>
<link rel="self" href="${x(input.baseUrl + input.selfHref)}"/>
<link rel="alternate" type="text/html" href="${x(input.baseUrl + input.pageHref)}"/>
${input.entries
  .map(
    (e) => `<entry>
<id>${x(e.id)}</id>
<title>${x(e.title)}</title>
<link rel="alternate" type="text/html" href="${x(input.baseUrl + e.href)}"/>
<updated>${x(e.updated)}</updated>
<summary>${x(e.summary)}</summary>
</entry>
`,
  )
  .join('')}</feed>
`;
}

/** Business dates are Beijing dates; midnight in UTC+8. */
const dayTime = (date: string) => `${date}T00:00:00+08:00`;

export function noticesFeed(model: RegionModel, baseUrl: string): string {
  const code = model.place.code;
  return feed({
    id: `tag:${tagAuthority}:notices/${code}`,
    title: `${model.place.name} 公示公告`,
    selfHref: `/feeds/r/${code}/notices.atom`,
    pageHref: regionHref(code),
    baseUrl,
    entries: model.notices.map((n) => ({
      id: `tag:${tagAuthority}:notice/${model.partition}/${n.noticeId}`,
      title: n.title,
      href: noticeHref(model.partition, n.noticeId),
      // The newest of the notice's own events, objections included: a reader sees one filed or decided.
      updated: n.updatedAt.toISOString(),
      summary: `公示期 ${n.startsOn} 至 ${n.endsOn}；${n.status === 'closed' ? '已结束' : '公示'}；${n.listedCount > 0 ? `名单 ${n.listedCount} 户，合计 ${formatYuan(n.listedTotalFen)} 元；` : ''}异议 ${n.objectionCount} 件`,
    })),
  });
}

export function allocationsFeed(model: RegionModel, baseUrl: string): string {
  const code = model.place.code;
  const a = model.allocations;
  const entries: Entry[] =
    a === null
      ? []
      : [
          ...a.received.map((r) => ({
            id: `tag:${tagAuthority}:receipt/${model.partition}/${r.receiptId}`,
            title: `到账 ${r.documentNumber} ${formatYuan(r.amountFen)} 元`,
            href: regionHref(code),
            updated: dayTime(r.receivedOn),
            summary: `${r.documentNumber}，${r.fiscalYear} 年度，${formatYuan(r.amountFen)} 元${r.reversed ? '（已冲正）' : ''}`,
          })),
          ...a.issued.map((r) => ({
            id: `tag:${tagAuthority}:allocation/${model.partition}/${r.allocationId}`,
            title: `下达 ${r.documentNumber} ${formatYuan(r.issuedFen)} 元`,
            href: regionHref(code),
            updated: dayTime(r.issuedOn),
            summary: `${r.title}：下达 ${r.toPartition} ${formatYuan(r.issuedFen)} 元，已到账 ${formatYuan(r.receivedFen)} 元，在途 ${formatYuan(r.inTransitFen)} 元`,
          })),
        ];
  return feed({
    id: `tag:${tagAuthority}:allocations/${code}`,
    title: `${model.place.name} 资金分配结果`,
    selfHref: `/feeds/r/${code}/allocations.atom`,
    pageHref: regionHref(code),
    baseUrl,
    entries,
  });
}

/** JSON for the API: money as strings of digits (CONVENTIONS: never a float). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
}
