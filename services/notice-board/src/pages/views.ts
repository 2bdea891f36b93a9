import { ledger } from '@fundtrace/events';
import { formatYuan } from '@fundtrace/money';
import { formatPercent, progressChart } from '../html/chart';
import { type Html, html } from '../html/escape';
import { type Breadcrumb, layout } from '../html/layout';
import { beijingTime, phaseLabels } from '../notices/period';
import { objectionSummaryCharsMax } from '../objections/limits';
import {
  type LogCheckpoint,
  type NoticeModel,
  type Place,
  type ProofModel,
  proofPath,
  type RegionModel,
} from './model';

/** Chinese labels of the ledger's codes, for readers (shared with the ledger's refusals); an unknown code is shown as it is. */
const { paymentStatusLabels, noticeKindLabels, noticeStageLabels: stageLabels } = ledger;
const outcomeLabels = ledger.objectionOutcomeLabels;
/** What an objection did to a line: open (the line waits), upheld (not paid under this notice), dismissed. */
const lineObjectionLabels: Readonly<Record<string, string>> = {
  open: '异议处理中',
  upheld: '异议成立，不予发放',
  dismissed: '异议不成立',
};
/**
 * A line's objection as the board states it. An upheld objection filed after the line was paid
 * does not stop that payment (the ledger refuses only later ones): "不予发放" beside "发放中" or
 * "已到账" told the village something the books contradict.
 */
export function lineObjectionText(objection: string | null, paymentStatus: string | null): string {
  if (objection === null) return '';
  if (objection === 'upheld' && (paymentStatus === 'instructed' || paymentStatus === 'settled')) {
    return '异议成立（本行已发放）';
  }
  return label(lineObjectionLabels, objection);
}
const channelLabels: Readonly<Record<string, string>> = {
  notice_board: '公示栏网页',
  counter: '窗口',
  phone: '电话',
  letter: '信件',
};

const yuan = (fen: bigint) => formatYuan(fen);
const label = ledger.codeLabel;

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
<dt>签名时间</dt><dd><time datetime="${checkpoint.signedAt}">${beijingTime(Date.parse(checkpoint.signedAt))}</time></dd>
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
      html`<tr><td>${r.documentNumber}</td><td>${ledger.fundSourceLabel(r.fundSource)}</td><td>${r.fiscalYear}</td><td>${r.fromPartition === null ? (r.payer ?? '') : html`<a href="${regionHref(r.fromPartition)}">${a.partitionNames[r.fromPartition] ?? r.fromPartition}</a>`}</td><td class="n">${yuan(r.amountFen)}</td><td>${r.receivedOn}</td><td>${r.reversed ? '已冲正（不计入合计）' : '已到账'}</td></tr>`,
  )}</tbody>
<tfoot><tr><th colspan="4">合计（${a.received.filter((r) => !r.reversed).length} 笔）</th><td class="n" data-total="received">${yuan(a.receivedTotalFen)}</td><td colspan="2"></td></tr></tfoot>
</table></div>
<div class="scroll"><table><caption>本级下达的资金</caption>
<thead><tr><th>文号</th><th>名称</th><th>资金来源</th><th>下达至</th><th class="n">下达金额（元）</th><th class="n">已到账（元）</th><th class="n">在途（元）</th><th>下达日期</th></tr></thead>
<tbody>${a.issued.map(
    (r) =>
      html`<tr><td>${r.documentNumber}</td><td>${r.title}</td><td>${ledger.fundSourceLabel(r.fundSource)}</td><td><a href="${regionHref(r.toPartition)}">${a.partitionNames[r.toPartition] ?? r.toPartition}</a></td><td class="n">${yuan(r.issuedFen)}</td><td class="n">${yuan(r.receivedFen)}</td><td class="n">${yuan(r.inTransitFen)}</td><td>${r.issuedOn}</td></tr>`,
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
      html`<tr><td>${l.name}</td><td><a href="${regionHref(l.villageCode)}">${model.villageNames[l.villageCode] ?? l.villageCode}</a></td><td>${model.categoryNames[l.category] ?? l.category}</td><td class="n">${yuan(l.budgetFen)}</td><td class="n">${yuan(l.earmarkedFen)}</td><td class="n">${yuan(l.disbursedFen)}</td><td class="n">${formatPercent(l.disbursedFen, l.budgetFen)}</td><td>${l.accepted ? '已验收' : '未验收'}</td></tr>`,
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
<div class="scroll"><table class="lines">
<thead><tr><th class="n">行</th><th>户主</th><th>村</th><th class="n">人口</th><th class="n">数量</th><th class="n">金额（元）</th><th>发放</th><th>异议</th><th class="no-print">核验</th></tr></thead>
<tbody>${model.lines.map(
    (l) =>
      html`<tr><td class="n" data-label="行">${l.lineNo}</td><td data-label="户主">${l.name}</td><td data-label="村">${l.villageName}</td><td class="n" data-label="人口">${l.memberCount}</td><td class="n" data-label="数量">${l.quantity}</td><td class="n" data-label="金额（元）">${yuan(l.amountFen)}</td><td data-label="发放">${l.paymentStatus === null ? '待发放' : label(paymentStatusLabels, l.paymentStatus)}</td><td data-label="异议">${lineObjectionText(l.objection, l.paymentStatus)}</td><td class="no-print" data-label="核验">${l.proofUrl === null ? '待签入' : html`<a href="${l.proofUrl}">证明</a>`}</td></tr>`,
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

/**
 * A notice line's proof for a villager (decision 0121): what is proven in one sentence, what that
 * means in plain words, how to check it without trusting the board, and the hashes for those who
 * check. Nothing on it that the notice page does not show: the masked name, village and amount.
 */
export function renderProof(model: ProofModel, generatedFrom: string): string {
  const n = model.notice;
  const l = model.line;
  const place = model.chain[model.chain.length - 1]?.name ?? model.partition;
  const signedAt = beijingTime(Date.parse(model.signedAt));
  const what =
    l === null
      ? html`《${n.title}》的发布记录`
      : html`《${n.title}》第 ${l.lineNo} 行（户主 ${l.name}，${l.villageName}，金额 ${yuan(l.amountFen)} 元）`;
  const carried =
    l === null
      ? html`这条记录是本公示的发布：标题、公示期和类别。`
      : model.linesFrom === 'published'
        ? html`这条记录是随公示一同发布的名单（公示名单），本行和名单中的其他各行一起记入，发放之前就已公开。`
        : html`这条记录是按本公示发放给这一户的补贴。`;
  const json = `/api${proofPath(model.partition, n.noticeId, l?.lineNo ?? null)}?size=${model.treeSize}`;
  const title = l === null ? `公示发布记录的证明` : `第 ${l.lineNo} 行的证明`;
  const body = html`<section aria-labelledby="proven"><h2 id="proven">证明了什么</h2>
<p class="proven">${what}记在${place}资金日志（${model.stream}）的<strong>第 ${model.seq} 条记录</strong>中。</p>
<p>这份日志在 <time datetime="${model.signedAt}">${signedAt}</time> 签名时共有 <strong>${model.treeSize}</strong> 条记录，签名的根哈希是：</p>
<p class="meta"><code data-root>${model.rootHashHex}</code><br>（同一根哈希的 base64 写法，与签名检查点原文和 <code>fundtrace verify</code> 的输出相同：<code data-root-base64>${model.rootHashBase64}</code>）</p>
<p>${carried}</p>
</section>
<section aria-labelledby="plain"><h2 id="plain">这是什么意思</h2>
<p>每一笔资金的下达、公示和发放都按顺序记在资金日志里。日志只能往后添加，不能修改或删除。每条记录都算出一个“数字指纹”（哈希），所有指纹两两合并，最后得到一个“根哈希”，由日志服务签名。</p>
<p>本页列出从这条记录的指纹算到根哈希所需的 ${model.proofHex.length} 个指纹。只要有人改动、删掉或插入任何一条记录，算出来的根哈希就会不同，和签名对不上。所以：今天能核对上的，就是在 ${signedAt} 时已经记入、以后也改不了的记录。</p>
<p>本页只显示公示上已经公开的内容（姓名已隐去部分字）。记录原文含有户编号等内部编号，不在公示栏公开；证明只用它的指纹。</p>
</section>
<section aria-labelledby="check" class="no-print"><h2 id="check">自己核验</h2>
<ul class="links">
<li><a href="${json}" download>下载证明 (JSON)</a>：可以用 <code>fundtrace verify 证明.json --key 公钥.txt</code> 在自己的电脑上离线核验。</li>
<li><a href="${model.verifierKeyUrl}">日志公钥</a>：核验签名用。</li>
<li><a href="${model.checkpointUrl}">签名检查点原文</a>（日志服务）。</li>
<li><a href="${model.logKeeperProofUrl}">直接向日志服务查询同一证明</a>：不经过本公示栏。</li>
</ul></section>
<section aria-labelledby="hashes"><h2 id="hashes">技术细节</h2>
<dl class="meta">
<dt>日志流</dt><dd>${model.stream}</dd>
<dt>记录序号（叶子序号 + 1）</dt><dd>${model.seq}（叶子 ${model.leafIndex}）</dd>
<dt>树大小（记录数）</dt><dd>${model.treeSize}</dd>
<dt>记录的指纹（叶子哈希）</dt><dd><code>${model.leafHashHex}</code></dd>
<dt>根哈希</dt><dd><code>${model.rootHashHex}</code>（base64：<code>${model.rootHashBase64}</code>）</dd>
<dt>签名时间</dt><dd>${signedAt}</dd>
<dt>证明路径（${model.proofHex.length} 个哈希，RFC 9162）</dt><dd><ol>${model.proofHex.map((h) => html`<li><code>${h}</code></li>`)}</ol></dd>
</dl></section>
<p><a href="${noticeHref(model.partition, n.noticeId)}">返回公示</a></p>`;
  return layout({
    title,
    breadcrumbs: [
      ...crumbs(model.chain),
      { href: noticeHref(model.partition, n.noticeId), label: n.title },
      { href: '', label: title },
    ],
    body,
    footer: html`<p class="meta">本页依据账簿投影 ${generatedFrom} 生成。</p>`,
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
