import { type Html, html, trusted } from './escape';

/**
 * The page shell. Small on purpose (a cheap phone on a slow link): one inline stylesheet, no
 * script, no web fonts. Semantic markup reads in order without CSS; sizes are in rem so a
 * reader's large-font setting scales everything; print CSS fits an A4 sheet for the 公示栏. On a
 * phone a notice's list (table.lines) becomes one card per line, each cell under its heading: as a
 * nine-column table the payment status and the 证明 link sat off screen to the right.
 */
const stylesheet = trusted(`
:root{font-size:100%;color:#111;background:#fff}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;line-height:1.6;margin:0 auto;max-width:60rem;padding:0 1rem 2rem}
header,footer{border-bottom:2px solid #b22;margin-bottom:1rem}footer{border-top:1px solid #999;border-bottom:0;margin-top:2rem;font-size:.9rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:1.5rem;border-left:.3rem solid #b22;padding-left:.5rem}
nav ol{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem}nav li+li::before{content:"›";padding:0 .4rem;color:#666}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tfoot td,tfoot th{font-weight:bold;background:#f3f3f3}
div.scroll{overflow-x:auto;max-width:100%}
caption{text-align:left;font-weight:bold;padding:.25rem 0}
.status-open{color:#060;font-weight:bold}.status-ended,.status-closed{color:#555}.warn{color:#a00;font-weight:bold}
.meta{font-size:.85rem;color:#333;word-break:break-all}
a{color:#035}ul.links{padding-left:1.2rem}
form label{display:block;margin-top:.5rem;font-weight:bold}textarea,select,input{font-size:1rem;width:100%;max-width:40rem;box-sizing:border-box}
button{font-size:1.1rem;padding:.4rem 1.2rem;margin-top:.75rem}
svg text{font-family:inherit}figure{margin:1rem 0}
.no-print{}
@media screen and (max-width:36rem){table.lines thead{display:none}table.lines,table.lines tbody,table.lines tfoot,table.lines tr,table.lines td,table.lines th{display:block;width:auto}
table.lines tr{border:1px solid #999;margin:.5rem 0;padding:.2rem .5rem}table.lines td,table.lines th{border:0;padding:.05rem 0;text-align:left;white-space:normal}
table.lines td[data-label]::before{content:attr(data-label) "：";color:#555}table.lines td:empty{display:none}}
@media print{div.scroll{overflow:visible}th,td{white-space:normal}@page{size:A4;margin:15mm 12mm}body{max-width:none;padding:0;font-size:10.5pt}a{color:#000;text-decoration:none}
.no-print,form,nav .feeds{display:none}table{page-break-inside:auto}tr{page-break-inside:avoid}thead{display:table-header-group}
h2{page-break-after:avoid}}
`);

export interface Breadcrumb {
  readonly href: string;
  readonly label: string;
}

export function layout(input: {
  readonly title: string;
  readonly breadcrumbs: readonly Breadcrumb[];
  readonly body: Html;
  readonly footer: Html;
  readonly alternates?: readonly { href: string; type: string; title: string }[];
}): string {
  const page = html`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${input.title} · 扶贫资金公示</title>
${(input.alternates ?? []).map((a) => html`<link rel="alternate" type="${a.type}" href="${a.href}" title="${a.title}">\n`)}<style>${stylesheet}</style>
</head>
<body>
<header>
<p><a href="/">扶贫资金公示栏</a></p>
<nav aria-label="所在位置"><ol>${input.breadcrumbs.map((b, i) =>
    i === input.breadcrumbs.length - 1
      ? html`<li aria-current="page">${b.label}</li>`
      : html`<li><a href="${b.href}">${b.label}</a></li>`,
  )}</ol></nav>
<h1>${input.title}</h1>
</header>
<main>
${input.body}
</main>
<footer>
${input.footer}
</footer>
</body>
</html>
`;
  return page.text;
}
