import { formatYuan } from '@fundtrace/money';
import { formatPercent, progressChart } from '../html/chart';
import { type Html, html } from '../html/escape';
import { type Breadcrumb, layout } from '../html/layout';
import { phaseLabels } from '../notices/period';
import { objectionSummaryCharsMax } from '../objections/limits';
import type { LogCheckpoint, NoticeModel, Place, RegionModel } from './model';

/** Chinese labels of the ledger's codes, for readers; an unknown code is shown as it is. */
const fundSourceLabels: Readonly<Record<string, string>> = {
  central: '中央财政专项扶贫资金',
  province: '省级财政专项扶贫资金',
  city: '市级财政专项扶贫资金',
  county: '县级财政专项扶贫资金',
  integrated: '统筹整合涉农资金',
  bond: '政府债券',
  donation: '社会帮扶捐赠',
  credit: '金融/信贷',
  self_raised: '群众自筹',
  eco_compensation: '生态补偿',
  other: '其他',
};
const paymentStatusLabels: Readonly<Record<string, string>> = {
  instructed: '发放中',
  settled: '已到账',
  returned: '银行退回',
  reversed: '已冲正',
};
const outcomeLabels: Readonly<Record<string, string>> = { upheld: '异议成立', dismissed: '异议不成立' };
/** What an objection did to a line: open (the line waits), upheld (not paid under this notice), dismissed. */
const lineObjectionLabels: Readonly<Record<string, string>> = {
  open: '异议处理中',
  upheld: '异议成立，不予发放',
  dismissed: '异议不成立',
};
const channelLabels: Readonly<Record<string, string>> = {
  notice_board: '公示栏网页',
  counter: '窗口',
  phone: '电话',
  letter: '信件',
};

/** Notice stages of the programmes' chains (reference data), e.g. 三榜公示 for housing. */
const stageLabels: Readonly<Record<string, string>> = {
  first: '第一榜',
  second: '第二榜',
  third: '第三榜',
  township: '乡镇审核公示',
  county: '县级审批公示',
  approval: '审批公示',
  first_review: '初审公示',
};
const noticeKindLabels: Readonly<Record<string, string>> = {
  roster: '发放名单',
  programme: '补助对象',
  allocation: '资金分配',
  project: '项目',
};

const yuan = (fen: bigint) => formatYuan(fen);
const label = (labels: Readonly<Record<string, string>>, code: string) => labels[code] ?? code;

export function regionHref(code: string): string {
  return `/r/${code}`;
}
export function noticeHref(partition: string, noticeId: string): string {
  return `/n/${partition}/${encodeURIComponent(noticeId)}`;
}

function crumbs(chain: readonly Place[]): Breadcrumb[] {
  return [{ href: '/', label: '首页' }, ...chain.map((p) => ({ href: regionHref(p.code), label: p.name }))];
}

function checkpointFooter(checkpoint: LogCheckpoint | null, generatedFrom: string): Html {
  const proof = html`<p class="meta">每一行数字都记在不可篡改的资金日志中。保存本页的读者日后可以用日志的一致性证明核对：今天的日志没有改写本页所依据的记录。</p>`;
  if (checkpoint === null) {
    return html`<section aria-labelledby="cp"><h2 id="cp">数据来源</h2><p class="meta">本页依据账簿投影 ${generatedFrom} 生成；该账套的日志尚无签名检查点。</p>${proof}</section>`;
  }
  return html`<section aria-labelledby="cp"><h2 id="cp">数据来源（日志检查点）</h2>
<dl class="meta">
<dt>日志流</dt><dd>${checkpoint.stream}</dd>
<dt>树大小（事件数）</dt><dd>${checkpoint.size}</dd>
<dt>根哈希</dt><dd><code>${checkpoint.rootHashHex}</code></dd>
<dt>签名时间</dt><dd>${checkpoint.signedAt}</dd>
<dt>签名检查点</dt><dd><a href="${checkpoint.checkpointUrl}">${checkpoint.checkpointUrl}</a></dd>
</dl>${proof}</section>`;
}

function allocationsSection(model: RegionModel): Html {
  const a = model.allocations;
  if (a === null) return html``;
  return html`<section aria-labelledby="alloc"><h2 id="alloc">资金分配结果</h2>
<div class="scroll"><table><caption>本级收到的资金（到账）</caption>
<thead><tr><th>文号</th><th>资金来源</th><th>年度</th><th>来自</th><th class="n">金额（元）</th><th>到账日期</th><th>状态</th></tr></thead>
<tbody>${a.received.map(
    (r) =>
      html`<tr><td>${r.documentNumber}</td><td>${label(fundSourceLabels, r.fundSource)}</td><td>${r.fiscalYear}</td><td>${r.fromPartition === null ? (r.payer ?? '') : html`<a href="${regionHref(r.fromPartition)}">${a.partitionNames[r.fromPartition] ?? r.fromPartition}</a>`}</td><td class="n">${yuan(r.amountFen)}</td><td>${r.receivedOn}</td><td>${r.reversed ? '已冲正（不计入合计）' : '已到账'}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="4">合计（${a.received.filter((r) => !r.reversed).length} 笔）</th><td class="n" data-total="received">${yuan(a.receivedTotalFen)}</td><td colspan="2"></td></tr></tfoot>
</table></div>
<div class="scroll"><table><caption>本级下达的资金</caption>
<thead><tr><th>文号</th><th>名称</th><th>资金来源</th><th>下达至</th><th class="n">下达金额（元）</th><th class="n">已到账（元）</th><th class="n">在途（元）</th><th>下达日期</th></tr></thead>
<tbody>${a.issued.map(
    (r) =>
      html`<tr><td>${r.documentNumber}</td><td>${r.title}</td><td>${label(fundSourceLabels, r.fundSource)}</td><td><a href="${regionHref(r.toPartition)}">${a.partitionNames[r.toPartition] ?? r.toPartition}</a></td><td class="n">${yuan(r.issuedFen)}</td><td class="n">${yuan(r.receivedFen)}</td><td class="n">${yuan(r.inTransitFen)}</td><td>${r.issuedOn}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="4">合计（${a.issued.length} 笔）</th><td class="n" data-total="issued">${yuan(a.issuedTotalFen)}</td><td class="n">${yuan(a.issuedReceivedTotalFen)}</td><td class="n" data-total="in-transit">${yuan(a.inTransitTotalFen)}</td><td></td></tr></tfoot>
</table></div></section>`;
}

function projectsSection(model: RegionModel): Html {
  const p = model.projects;
  if (p === null) return html``;
  return html`<section aria-labelledby="proj"><h2 id="proj">项目安排和资金使用</h2>
<div class="scroll"><table>
<thead><tr><th>项目</th><th>所在村</th><th>类别</th><th class="n">预算（元）</th><th class="n">已安排（元）</th><th class="n">已拨付（元）</th><th class="n">进度</th><th>验收</th></tr></thead>
<tbody>${p.lines.map(
    (l) =>
      html`<tr><td>${l.name}</td><td><a href="${regionHref(l.villageCode)}">${model.villageNames[l.villageCode] ?? l.villageCode}</a></td><td>${l.category}</td><td class="n">${yuan(l.budgetFen)}</td><td class="n">${yuan(l.earmarkedFen)}</td><td class="n">${yuan(l.disbursedFen)}</td><td class="n">${formatPercent(l.disbursedFen, l.budgetFen)}</td><td>${l.accepted ? '已验收' : '未验收'}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="3">合计（${p.lines.length} 个项目）</th><td class="n" data-total="budget">${yuan(p.budgetTotalFen)}</td><td class="n" data-total="earmarked">${yuan(p.earmarkedTotalFen)}</td><td class="n" data-total="disbursed">${yuan(p.disbursedTotalFen)}</td><td class="n">${formatPercent(p.disbursedTotalFen, p.budgetTotalFen)}</td><td></td></tr></tfoot>
</table></div></section>`;
}

function paymentsSection(model: RegionModel): Html {
  const p = model.payments;
  if (p === null) return html``;
  return html`<section aria-labelledby="pay"><h2 id="pay">补贴发放到户</h2>
<div class="scroll"><table>
<thead><tr><th>村</th><th class="n">户数</th><th class="n">已到账（元）</th><th class="n">发放中（元）</th></tr></thead>
<tbody>${p.villages.map(
    (v) =>
      html`<tr><td><a href="${regionHref(v.villageCode)}">${model.villageNames[v.villageCode] ?? v.villageCode}</a></td><td class="n">${v.households}</td><td class="n">${yuan(v.paidFen)}</td><td class="n">${yuan(v.pendingFen)}</td></tr>`,
  )}</tbody>
<tfoot><tr><th>合计</th><td class="n">${p.householdsTotal}</td><td class="n" data-total="paid">${yuan(p.paidTotalFen)}</td><td class="n">${yuan(p.pendingTotalFen)}</td></tr></tfoot>
</table></div></section>`;
}

function progressSection(model: RegionModel): Html {
  if (model.progress.length === 0) return html``;
  const what = model.place.level === 'county' ? '各乡镇' : '各村';
  return html`<section aria-labelledby="prog"><h2 id="prog">${what}资金使用进度</h2>
${progressChart(
  `${what}已拨付和已发放占预算和发放总额的比例`,
  model.progress.map((a) => ({
    label: a.place.name,
    totalFen: a.budgetFen + a.paidFen + a.pendingFen,
    spentFen: a.disbursedFen + a.paidFen,
  })),
)}
<div class="scroll"><table>
<thead><tr><th>${model.place.level === 'county' ? '乡镇' : '村'}</th><th class="n">项目预算（元）</th><th class="n">已拨付（元）</th><th class="n">补贴已到账（元）</th><th class="n">补贴发放中（元）</th><th class="n">进度</th></tr></thead>
<tbody>${model.progress.map(
    (a) =>
      html`<tr><td><a href="${regionHref(a.place.code)}">${a.place.name}</a></td><td class="n">${yuan(a.budgetFen)}</td><td class="n">${yuan(a.disbursedFen)}</td><td class="n">${yuan(a.paidFen)}</td><td class="n">${yuan(a.pendingFen)}</td><td class="n">${formatPercent(a.disbursedFen + a.paidFen, a.budgetFen + a.paidFen + a.pendingFen)}</td></tr>`,
  )}</tbody>
</table></div></section>`;
}

function noticesSection(model: RegionModel, feedHref: string): Html {
  if (model.place.level !== 'county' && model.place.level !== 'township' && model.place.level !== 'village')
    return html``;
  return html`<section aria-labelledby="notices"><h2 id="notices">公示公告</h2>
${
  model.notices.length === 0
    ? html`<p>暂无公示。</p>`
    : html`<ul class="links">${model.notices.map(
        (n) =>
          html`<li><a href="${noticeHref(model.partition, n.noticeId)}">${n.title}</a>（${n.startsOn} 至 ${n.endsOn}，${n.status === 'closed' ? '已结束' : '公示'}${n.listedCount > 0 ? `，名单 ${n.listedCount} 户` : ''}）</li>`,
      )}</ul>`
}
<p class="no-print">订阅：<a href="${feedHref}">Atom</a></p></section>`;
}

export function renderRegion(model: RegionModel, generatedFrom: string): string {
  const code = model.place.code;
  const feed = `/feeds/r/${code}/notices.atom`;
  const children =
    model.children.length === 0
      ? html``
      : html`<section aria-labelledby="below"><h2 id="below">下级</h2><ul class="links">${model.children.map(
          (c) => html`<li><a href="${regionHref(c.code)}">${c.name}</a></li>`,
        )}</ul></section>`;
  const body = html`${children}${progressSection(model)}${allocationsSection(model)}${projectsSection(model)}${paymentsSection(model)}${noticesSection(model, feed)}
<p class="no-print">数据接口：<a href="/api/r/${code}">JSON</a> · <a href="/feeds/r/${code}/allocations.atom">资金分配 Atom</a></p>`;
  return layout({
    title: `${model.place.name}扶贫资金公示`,
    breadcrumbs: crumbs(model.chain),
    body,
    footer: checkpointFooter(model.checkpoint, generatedFrom),
    alternates: [{ href: feed, type: 'application/atom+xml', title: `${model.place.name}公示` }],
  });
}

function objectionForm(model: NoticeModel): Html {
  if (model.period.phase === 'closed') {
    return html`<section aria-labelledby="obj-form"><h2 id="obj-form">提出异议</h2><p>本公示已结束，不再受理网上异议。如有问题请到村委会或乡镇政府当面反映。</p></section>`;
  }
  return html`<section aria-labelledby="obj-form" class="no-print"><h2 id="obj-form">提出异议</h2>
<p>任何人都可以对本公示提出异议。请不要填写身份证号、电话、银行卡号等个人信息，这些信息会被自动隐去。</p>
<form method="post" action="${noticeHref(model.partition, model.notice.noticeId)}/objections">
<label for="line">针对哪一行（可不选）</label>
<select id="line" name="line"><option value="">整个公示</option>${model.lines.map(
    (l) => html`<option value="${l.lineNo}">第 ${l.lineNo} 行</option>`,
  )}</select>
<label for="summary">异议内容（最多 ${objectionSummaryCharsMax} 字）</label>
<textarea id="summary" name="summary" rows="5" maxlength="${objectionSummaryCharsMax}" required></textarea>
<button type="submit">提交异议</button>
</form></section>`;
}

export function renderNotice(model: NoticeModel, generatedFrom: string): string {
  const n = model.notice;
  const p = model.period;
  const body = html`<section aria-labelledby="period"><h2 id="period">公示期</h2>
<dl>
<dt>公示项目</dt><dd>${model.programmeName ?? label(noticeKindLabels, n.kind)}${n.period === null ? '' : `（${n.period}）`}，${label(stageLabels, n.stage)}</dd>
<dt>开始</dt><dd>${n.startsOn}</dd>
<dt>结束</dt><dd>${n.endsOn}</dd>
<dt>天数</dt><dd>${p.days} 天（规定不少于 ${p.minDays} 天）${p.tooShort ? html` <span class="warn">公示期短于规定</span>` : ''}</dd>
<dt>状态</dt><dd class="status-${p.phase}">${phaseLabels[p.phase]}${p.phase === 'open' ? `，还剩 ${p.daysLeft} 天（含今天 ${model.today}）` : ''}</dd>
<dt>异议</dt><dd>${n.objectionCount} 件，未处理 ${n.openObjectionCount} 件</dd>
</dl></section>
<section aria-labelledby="lines"><h2 id="lines">名单</h2>
<p class="meta">${
    model.linesFrom === 'published'
      ? html`本名单随公示一同发布，发放前公示；每一行的发放和异议情况如下。`
      : html`本公示发布时未附名单，以下为按本公示已发放的记录。`
  }姓名按脱敏规则第 ${model.maskingVersion} 版隐去部分字；身份证号、电话、银行账号、健康状况一律不公示。</p>
${model.listedNotShown > 0 ? html`<p class="warn">名单共 ${model.lineCount + model.listedNotShown} 户，本页只列出前 ${model.lineCount} 户，合计也只含这些户；完整名单请到村委会查看。</p>` : ''}
<p>共 <strong data-total="households">${model.lineCount}</strong> 户，合计 <strong>${yuan(model.amountTotalFen)}</strong> 元；已到账 ${model.paidCount} 户 ${yuan(model.paidTotalFen)} 元。</p>
<div class="scroll"><table>
<thead><tr><th class="n">行</th><th>户主</th><th>村</th><th class="n">人口</th><th class="n">数量</th><th class="n">金额（元）</th><th>发放</th><th>异议</th><th class="no-print">核验</th></tr></thead>
<tbody>${model.lines.map(
    (l) =>
      html`<tr><td class="n">${l.lineNo}</td><td>${l.name}</td><td>${l.villageName}</td><td class="n">${l.memberCount}</td><td class="n">${l.quantity}</td><td class="n">${yuan(l.amountFen)}</td><td>${l.paymentStatus === null ? '待发放' : label(paymentStatusLabels, l.paymentStatus)}</td><td>${l.objection === null ? '' : label(lineObjectionLabels, l.objection)}</td><td class="no-print">${l.proofUrl === null ? '待签入' : html`<a href="${l.proofUrl}">证明</a>`}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="5">合计（${model.lineCount} 户）</th><td class="n" data-total="amount">${yuan(model.amountTotalFen)}</td><td colspan="3"></td></tr></tfoot>
</table></div></section>
<section aria-labelledby="objections"><h2 id="objections">异议及处理结果</h2>
${
  model.objections.length === 0
    ? html`<p>暂无异议。</p>`
    : html`<div class="scroll"><table><thead><tr><th>收到日期</th><th>渠道</th><th>内容</th><th>处理结果</th></tr></thead><tbody>${model.objections.map(
        (o) =>
          html`<tr><td>${o.filedOn}</td><td>${label(channelLabels, o.channel)}</td><td>${o.summary}</td><td>${o.outcome === null ? '处理中' : `${label(outcomeLabels, o.outcome)}：${o.resolutionNote ?? ''}`}</td></tr>`,
      )}</tbody></table></div>`
}</section>
${objectionForm(model)}
<p class="no-print">数据接口：<a href="/api${noticeHref(model.partition, n.noticeId)}">JSON</a>${model.publishedProofUrl === null ? '' : html` · <a href="${model.publishedProofUrl}">本公示发布记录的证明</a>`}</p>`;
  return layout({
    title: n.title,
    breadcrumbs: [...crumbs(model.chain), { href: noticeHref(model.partition, n.noticeId), label: n.title }],
    body,
    footer: checkpointFooter(model.checkpoint, generatedFrom),
  });
}

export function renderHome(places: readonly Place[]): string {
  return layout({
    title: '扶贫资金公示栏',
    breadcrumbs: [{ href: '/', label: '首页' }],
    body: html`<p>各级扶贫资金的分配结果、项目安排和资金使用、补贴发放名单，均由资金账簿生成。</p>
<section aria-labelledby="levels"><h2 id="levels">选择地区</h2><ul class="links">${places.map(
      (p) => html`<li><a href="${regionHref(p.code)}">${p.name}</a></li>`,
    )}</ul></section>`,
    footer: html`<p class="meta">数据来自资金日志的账簿投影。</p>`,
  });
}

export function renderMessage(
  title: string,
  message: Html,
  status: { chain?: readonly Place[] } = {},
): string {
  return layout({
    title,
    breadcrumbs: crumbs(status.chain ?? []),
    body: message,
    footer: html``,
  });
}
