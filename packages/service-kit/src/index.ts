export {
  type App,
  type AppOptions,
  bodyLimitBytesDefault,
  createApp,
  requestIdHeader,
  requestTimeoutMs,
  validationIssuesMax,
} from './app';
export {
  type AuthUser,
  authenticator,
  clockToleranceSeconds,
  currentUser,
  type Role,
  type RoleOptions,
  requireRole,
  roles,
  signToken,
  type TokenCacheOptions,
  type TokenClaims,
  TokenVerifier,
  tokenAudience,
  tokenClaimsSchema,
  tokenIssuer,
  tokenPartitionsMax,
  tokenTtlSecondsMax,
  verifiedTokensMax,
  verifiedTokenTtlMs,
  verifyToken,
} from './auth';
export {
  ConfigError,
  commonEnv,
  databaseUrl,
  host,
  jwtSecret,
  jwtSecretBytesMin,
  type LogLevel,
  loadConfig,
  loadConfigWith,
  logLevel,
  logLevels,
  namespace,
  namespaceLengthMax,
  natsUrl,
  port,
  streamReplicas,
  streamWriterEnv,
  type TrustProxy,
  trustProxy,
  trustProxyHopsMax,
} from './config';
export {
  defineRejections,
  type ErrorResponse,
  errorResponseSchema,
  internalErrorCode,
  isRejection,
  kitRejections,
  Rejection,
  type RejectionDetails,
  type RejectionStatus,
  rejection,
  type ValidationIssue,
} from './errors';
export {
  type CheckStatus,
  Readiness,
  type ReadinessCheck,
  type ReadinessReport,
  readinessCheckTimeoutMs,
} from './health';
export {
  createLogger,
  isSensitiveKey,
  type LoggerOptions,
  redacted,
  redactPaths,
  scrubDepthMax,
  scrubText,
  scrubValue,
} from './logger';
export { createMetrics, httpDurationBucketsSeconds, type ServiceMetrics, unmatchedRoute } from './metrics';
export { type DbPluginOptions, dbPlugin } from './plugins/db';
export {
  isNatsUnavailable,
  type NatsPluginOptions,
  natsConnectTimeoutMs,
  natsPlugin,
  natsReconnectWaitMs,
  natsRetryAfterSeconds,
  natsUnavailableCode,
} from './plugins/nats';
export { limitPerAddress, operationsRoutes, rateLimitWindowMs } from './rate-limit';
export {
  type RunningService,
  type RunOptions,
  runService,
  type ShutdownHook,
  shutdownTimeoutMs,
} from './run';
export { type DeepReadonly, serializerCompiler, type ZodTypeProvider } from './type-provider';
export { databaseRetryAfterSeconds, temporaryUnavailability, type Unavailability } from './unavailable';
