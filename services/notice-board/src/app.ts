import formbody from '@fastify/formbody';
import {
  householdOfListedLine,
  householdOfNoticeLine,
  projectionVersion,
  publicNotice,
} from '@fundtrace/books';
import { createDb, type Database } from '@fundtrace/db';
import { beijingDate, loadGazetteer } from '@fundtrace/events';
import { type App, createApp, dbPlugin, limitPerAddress } from '@fundtrace/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { type CachedPage, PageCache, pageOf } from './cache';
import type { NoticeBoardConfig } from './config';
import { allocationsFeed, noticesFeed, toJson } from './feeds/atom';
import { html } from './html/escape';
import { loadProgrammes } from './notices/programmes';
import { objectionBodyBytesMax, objectionSummaryCharsMax } from './objections/limits';
import { maskObjectionText } from './objections/mask';
import { ledgerObjectionSender, type ObjectionSender } from './objections/send';
import {
  type BoardContext,
  booksVersion,
  chainOf,
  noticeModel,
  proofModel,
  regionModel,
  topPlaces,
} from './pages/model';
import {
  noticeHref,
  renderHome,
  renderMessage,
  renderNotice,
  renderProof,
  renderRegion,
} from './pages/views';

export const version = '0.1.0';

/**
 * Browsers and proxies may reuse a page this long without asking; after that they revalidate with
 * the ETag (a 304 costs no query). A minute is short next to a 7-day notice period.
 */
export const pageMaxAgeSeconds = 60;
const cacheControl = `public, max-age=${pageMaxAgeSeconds}, must-revalidate`;

const htmlType = 'text/html; charset=utf-8';
const jsonType = 'application/json; charset=utf-8';
const atomType = 'application/atom+xml; charset=utf-8';

const regionParams = z.object({ code: z.string().regex(/^[0-9]{6}([0-9]{3}){0,2}$/) });
const noticeParams = z.object({
  partition: z.string().regex(/^[0-9]{6}$/),
  noticeId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
const lineParams = noticeParams.extend({ lineNo: z.string().regex(/^[1-9][0-9]{0,8}$/) });
/** A signed checkpoint's size; the notice page links each proof at the checkpoint it shows. */
const proofQuery = z.object({
  size: z
    .string()
    .regex(/^[0-9]{1,15}$/)
    .optional(),
});

/**
 * A proof page answers JSON (the evidence bundle) to a client that asks for JSON and not HTML:
 * `curl -H 'Accept: application/json' <证明 link> > p.json` for `fundtrace verify`, while a browser
 * (text/html) and a client that accepts anything get the page.
 */
export function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

const objectionBody = z.object({
  line: z
    .string()
    .max(9)
    .regex(/^[0-9]*$/)
    .default(''),
  summary: z.string().max(objectionSummaryCharsMax * 2),
});

export interface BuildOptions {
  /** Replaces the HTTP call to ledger-api (tests of the form's behaviour when ledger-api fails). */
  readonly sendObjection?: ObjectionSender;
  /** Today's Beijing date; default from the clock. */
  readonly today?: () => string;
  /** Public base URL of this board for feed links; default from the request's host. */
  readonly publicUrl?: string;
}

export async function buildApp(config: NoticeBoardConfig, options: BuildOptions = {}): Promise<App> {
  const app = await createApp({
    name: 'notice-board',
    version,
    description:
      'Public notice board (公示栏): allocation results, projects and fund use, beneficiary lists (masked), objections, feeds.',
    logLevel: config.LOG_LEVEL,
    auth: false,
    bodyLimitBytes: objectionBodyBytesMax,
    trustProxy: config.TRUST_PROXY,
  });
  await app.register(dbPlugin, {
    url: config.DATABASE_URL,
    schema: { active: true, fallback: config.NOTICE_FALLBACK_SCHEMA },
    applicationName: 'notice-board',
  });
  const logDb: Kysely<Database> = createDb<Database>(config.DATABASE_URL, {
    schema: config.LOG_DB_SCHEMA,
    applicationName: 'notice-board-log',
  });
  app.addHook('onClose', async () => {
    await logDb.destroy();
  });
  await app.register(formbody);
  // helmet's default CSP (service-kit) says upgrade-insecure-requests: a board served over plain
  // HTTP on a village LAN address would have browsers send its objection form to https://, where
  // nothing listens. The board's pages load only from itself ('self'), so there is nothing to upgrade.
  app.addHook('onSend', async (_request, reply, payload) => {
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string') {
      reply.header(
        'content-security-policy',
        csp
          .split(';')
          .filter((directive) => directive.trim() !== 'upgrade-insecure-requests')
          .join(';'),
      );
    }
    return payload;
  });
  // Every page, feed and JSON answer is limited per address (a reader clicks, a scraper hammers);
  // the objection form has its own, much lower limit. Probes and scrapes of the operations
  // endpoints come from one monitoring address and are not limited.
  await limitPerAddress(app, config.NOTICE_PAGES_PER_MINUTE);

  const today = options.today ?? (() => beijingDate(Date.now()));
  const ctx: BoardContext = {
    db: app.db,
    logDb,
    ns: config.FUNDTRACE_NAMESPACE,
    programmes: loadProgrammes(config.NOTICE_PROGRAMMES_FILE),
    places: loadGazetteer(config.NOTICE_GAZETTEER_FILE),
    logKeeperUrl: config.LOG_KEEPER_PUBLIC_URL,
    today,
  };
  const send =
    options.sendObjection ??
    ledgerObjectionSender({ ledgerApiUrl: config.LEDGER_API_URL, jwtSecret: config.JWT_SECRET });

  const cache = new PageCache();
  let versionChanges = 0;
  const refreshVersion = async () => {
    // The date is part of the version: days left and a notice's phase change at midnight.
    const moved = cache.setVersion(`${today()}|${await booksVersion(ctx, () => projectionVersion(app.db))}`);
    if (moved) {
      versionChanges++;
      app.log.debug({ version: cache.version }, 'books moved; page cache dropped');
    }
  };
  // Before the projector's first run there are no books to read: start anyway (the poll below
  // keeps trying) and say so in /ready, instead of failing to start.
  let booksReadable = false;
  const refreshReadable = async () => {
    await refreshVersion();
    booksReadable = true;
  };
  await refreshReadable().catch((error: unknown) =>
    app.log.warn({ err: error }, 'the books cannot be read yet; the board waits for the projector'),
  );
  app.readiness.add('books', async () => {
    if (!booksReadable) await refreshReadable();
  });
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    refreshReadable()
      .catch((error: unknown) => app.log.warn({ err: error }, 'reading the books version failed'))
      .finally(() => {
        polling = false;
      });
  }, config.NOTICE_CHECKPOINT_POLL_MS);
  poll.unref();
  app.addHook('onClose', async () => clearInterval(poll));
  app.decorate('pageCache', cache);
  // What the cache saves, for operators and the benchmark: builds per version, hits, misses.
  for (const [name, help, read] of [
    [
      'notice_board_page_builds_total',
      'Pages and feeds built from the books (queries run)',
      () => cache.stats().builds,
    ],
    ['notice_board_page_hits_total', 'Pages and feeds served from the cache', () => cache.stats().hits],
    [
      'notice_board_version_changes_total',
      'Times the books moved and the cache was dropped',
      () => versionChanges,
    ],
  ] as const) {
    new Counter({
      name,
      help,
      registers: [app.metrics.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  const generatedFrom = () => cache.version?.split('|')[1] ?? '';
  const baseUrl = (request: FastifyRequest) => options.publicUrl ?? `${request.protocol}://${request.host}`;

  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    key: string,
    build: () => Promise<CachedPage>,
  ) {
    const page = await cache.get(key, build);
    reply.header('content-type', page.contentType);
    if (page.status === 200) {
      reply.header('etag', page.etag).header('cache-control', cacheControl);
      if (request.headers['if-none-match'] === page.etag) return reply.code(304).send();
    } else {
      reply.header('cache-control', 'no-cache');
    }
    return reply.code(page.status).send(page.body);
  }

  const notFoundPage = (what: string) =>
    pageOf(
      renderMessage('未找到', html`<p>没有找到${what}。</p><p><a href="/">返回首页</a></p>`),
      htmlType,
      404,
    );
  /**
   * A mistyped address on a reader's page answers a page in Chinese, not the API's JSON 400 (the
   * reader followed or typed a URL; the routes under /api keep their JSON errors).
   */
  const badAddress = (reply: FastifyReply, what: string) =>
    reply
      .code(400)
      .header('content-type', htmlType)
      .header('cache-control', 'no-cache')
      .send(
        renderMessage(
          '网址有误',
          html`<p>这个网址里的${what}格式不对，请检查网址。</p><p><a href="/">返回首页</a></p>`,
        ),
      );
  const notFoundJson = (what: string) =>
    pageOf(toJson({ error: { code: 'not_found', message: `No ${what}.`, details: {} } }), jsonType, 404);

  app.get('/', { schema: { hide: true } }, async (request, reply) =>
    serve(request, reply, 'home', async () => pageOf(renderHome(await topPlaces(ctx)), htmlType)),
  );

  app.get(
    '/r/:code',
    { schema: { params: regionParams, hide: true }, attachValidation: true },
    async (request, reply) => {
      if (request.validationError) return badAddress(reply, '地区代码（6、9 或 12 位数字）');
      const { code } = request.params;
      return serve(request, reply, `r/${code}`, async () => {
        const model = await regionModel(ctx, code);
        return model === undefined
          ? notFoundPage('这个地区的账簿')
          : pageOf(renderRegion(model, generatedFrom()), htmlType);
      });
    },
  );

  app.get(
    '/api/r/:code',
    {
      schema: { params: regionParams, summary: 'A region’s page as JSON (money in fen, strings of digits)' },
    },
    async (request, reply) => {
      const { code } = request.params;
      return serve(request, reply, `api/r/${code}`, async () => {
        const model = await regionModel(ctx, code);
        return model === undefined ? notFoundJson('region') : pageOf(toJson(model), jsonType);
      });
    },
  );

  for (const kind of ['notices', 'allocations'] as const) {
    app.get(
      `/feeds/r/:code/${kind}.atom`,
      { schema: { params: regionParams, summary: `Atom feed of a region’s ${kind}` } },
      async (request, reply) => {
        const { code } = request.params;
        return serve(request, reply, `feed/${kind}/${code}/${baseUrl(request)}`, async () => {
          const model = await regionModel(ctx, code);
          if (model === undefined) return notFoundPage('这个地区的账簿');
          const body =
            kind === 'notices'
              ? noticesFeed(model, baseUrl(request))
              : allocationsFeed(model, baseUrl(request));
          return pageOf(body, atomType);
        });
      },
    );
  }

  app.get(
    '/n/:partition/:noticeId',
    { schema: { params: noticeParams, hide: true }, attachValidation: true },
    async (request, reply) => {
      if (request.validationError) return badAddress(reply, '公示编号');
      const { partition, noticeId } = request.params;
      return serve(request, reply, `n/${partition}/${noticeId}`, async () => {
        const model = await noticeModel(ctx, partition, noticeId);
        return model === undefined
          ? notFoundPage('这份公示')
          : pageOf(renderNotice(model, generatedFrom()), htmlType);
      });
    },
  );

  app.get(
    '/api/n/:partition/:noticeId',
    {
      schema: {
        params: noticeParams,
        summary: 'A notice with its masked lines, totals and objections, as JSON',
      },
    },
    async (request, reply) => {
      const { partition, noticeId } = request.params;
      return serve(request, reply, `api/n/${partition}/${noticeId}`, async () => {
        const model = await noticeModel(ctx, partition, noticeId);
        return model === undefined ? notFoundJson('notice') : pageOf(toJson(model), jsonType);
      });
    },
  );

  // 证明: a notice line's (or the notice's publication's) inclusion proof, as a page for villagers
  // and as the evidence bundle for `fundtrace verify` (decision 0121).
  const proofPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    params: { partition: string; noticeId: string; lineNo?: string },
    size: string | undefined,
    json: boolean,
  ) => {
    const { partition, noticeId } = params;
    const lineNo = params.lineNo === undefined ? null : Number(params.lineNo);
    const at = size === undefined ? undefined : Number(size);
    const key = `proof/${json ? 'json' : 'html'}/${partition}/${noticeId}/${lineNo ?? 'notice'}/${at ?? ''}`;
    return serve(request, reply, key, async () => {
      const outcome = await proofModel(ctx, partition, noticeId, lineNo, at);
      if (outcome.kind === 'not_found') {
        return json ? notFoundJson('notice, line or checkpoint') : notFoundPage(outcome.what);
      }
      if (outcome.kind === 'not_signed') {
        if (json) {
          return pageOf(
            toJson({
              error: {
                code: 'not_signed_yet',
                message: 'No signed checkpoint covers this record yet; try again in a minute.',
                details: {},
              },
            }),
            jsonType,
            404,
          );
        }
        return pageOf(
          renderMessage(
            '证明待签入',
            html`<p>这条记录晚于日志最近一次签名，证明要等下一次签名后才能提供（一般在一分钟内）。请稍后再打开本页。</p><p><a href="${noticeHref(partition, noticeId)}">返回公示</a></p>`,
            { chain: outcome.chain },
          ),
          htmlType,
          404,
        );
      }
      if (json) return pageOf(toJson(outcome.model.bundle), jsonType);
      return pageOf(renderProof(outcome.model, generatedFrom()), htmlType);
    });
  };
  for (const [path, params, what] of [
    ['/n/:partition/:noticeId/proof', noticeParams, '公示编号或检查点大小'],
    ['/n/:partition/:noticeId/lines/:lineNo/proof', lineParams, '公示编号、行号或检查点大小'],
  ] as const) {
    app.get(
      path,
      { schema: { params, querystring: proofQuery, hide: true }, attachValidation: true },
      async (request, reply) => {
        if (request.validationError) return badAddress(reply, what);
        reply.header('vary', 'accept');
        const query = request.query as z.infer<typeof proofQuery>;
        const json = wantsJson(request.headers.accept);
        return proofPage(request, reply, request.params as Parameters<typeof proofPage>[2], query.size, json);
      },
    );
  }
  const bundleSchema = (params: z.ZodType, summary: string) => ({
    schema: { params, querystring: proofQuery, summary },
  });
  app.get(
    '/api/n/:partition/:noticeId/proof',
    bundleSchema(
      noticeParams,
      'Evidence bundle (fundtrace-evidence/v1, leaf hash only) that the notice’s publication is in the signed log',
    ),
    async (request, reply) => {
      const { partition, noticeId } = request.params as z.infer<typeof noticeParams>;
      reply.header('content-disposition', `attachment; filename="proof-${partition}-${noticeId}.json"`);
      return proofPage(
        request,
        reply,
        { partition, noticeId },
        (request.query as z.infer<typeof proofQuery>).size,
        true,
      );
    },
  );
  app.get(
    '/api/n/:partition/:noticeId/lines/:lineNo/proof',
    bundleSchema(
      lineParams,
      'Evidence bundle (fundtrace-evidence/v1, leaf hash only) that a notice line is in the signed log; check it with fundtrace verify',
    ),
    async (request, reply) => {
      const params = request.params as z.infer<typeof lineParams>;
      reply.header(
        'content-disposition',
        `attachment; filename="proof-${params.partition}-${params.noticeId}-line-${params.lineNo}.json"`,
      );
      return proofPage(request, reply, params, (request.query as z.infer<typeof proofQuery>).size, true);
    },
  );

  app.post(
    '/n/:partition/:noticeId/objections',
    {
      bodyLimit: objectionBodyBytesMax,
      config: {
        rateLimit: {
          max: config.NOTICE_OBJECTIONS_PER_WINDOW,
          timeWindow: config.NOTICE_OBJECTION_WINDOW_MS,
        },
      },
      schema: { params: noticeParams, body: objectionBody, hide: true },
    },
    async (request, reply) => {
      const { partition, noticeId } = request.params;
      reply.header('content-type', htmlType).header('cache-control', 'no-store');
      const notice = await publicNotice(app.db, partition, noticeId);
      if (notice === undefined) return reply.code(404).send(notFoundPage('这份公示').body);
      const chain = chainOf(ctx, partition);
      const back = html`<p><a href="${noticeHref(partition, noticeId)}">返回公示</a></p>`;
      // After a filing, the way back is another address than the notice's: a browser would show its
      // copy of the notice (max-age, pageMaxAgeSeconds) without the objection just filed ("暂无异议").
      // The board ignores the query and serves the notice as the books stand.
      const summary = maskObjectionText(request.body.summary);
      if (summary.length === 0 || Array.from(summary).length > objectionSummaryCharsMax) {
        return reply
          .code(400)
          .send(
            renderMessage(
              '异议内容不符合要求',
              html`<p>请填写异议内容，最多 ${objectionSummaryCharsMax} 字。</p>${back}`,
              { chain },
            ),
          );
      }
      // The line number is looked up on the notice only; a line not on it is treated as the whole
      // notice, so the answer is the same whatever is typed and says nothing about the register.
      const lineNo = request.body.line === '' ? null : Number(request.body.line);
      let householdId: string | null = null;
      if (lineNo !== null) {
        // A published list (公示名单) names its lines itself; an older notice's lines are its payments.
        householdId = (await householdOfListedLine(app.db, partition, noticeId, lineNo)) ?? null;
        if (householdId === null) {
          const model = await noticeModel(ctx, partition, noticeId);
          const line =
            model?.linesFrom === 'payments' ? model.lines.find((l) => l.lineNo === lineNo) : undefined;
          if (line?.paymentId)
            householdId = (await householdOfNoticeLine(app.db, partition, notice, line.paymentId)) ?? null;
        }
      }
      const outcome = await send({ partition, noticeId, householdId, summary, filedOn: today() });
      if (outcome.kind === 'unavailable') {
        request.log.warn({ reason: outcome.reason }, 'objection not accepted by ledger-api');
        return reply
          .code(503)
          .send(
            renderMessage(
              '暂时无法受理',
              html`<p>系统暂时无法受理网上异议，请稍后再试，或到村委会、乡镇政府当面反映。</p>${back}`,
              { chain },
            ),
          );
      }
      if (outcome.kind === 'closed') {
        return reply
          .code(409)
          .send(
            renderMessage('公示已结束', html`<p>这份公示已结束，不再受理网上异议。</p>${back}`, { chain }),
          );
      }
      return reply.code(201).send(
        renderMessage(
          '异议已收到',
          html`<p role="status">您的异议已收到，受理编号 <strong>${outcome.objectionId}</strong>。工作人员会核实并在本公示页公布处理结果。</p>
<h2>您提交的内容</h2><blockquote><p>${summary}</p></blockquote>
<p class="meta">其中的身份证号、电话、银行卡号等数字已隐去。</p>
<p><a href="${noticeHref(partition, noticeId)}?filed=${outcome.objectionId}">返回公示</a></p>`,
          { chain },
        ),
      );
    },
  );

  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    pageCache: PageCache;
  }
}
