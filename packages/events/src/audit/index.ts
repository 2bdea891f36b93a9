import {
  findingClosed,
  findingRaised,
  findingRectified,
  findingReopened,
  findingReviewed,
  findingReviewedV1,
  findingReviewedV1ToV2,
  findingTraced,
} from './findings';
import { eventQuarantined } from './quarantine';

export * from './findings';
export * from './quarantine';

/** Every version of every audit event; the catalogue picks the latest per type. */
export const auditEvents = [
  findingRaised,
  findingReviewedV1,
  findingReviewed,
  findingTraced,
  findingRectified,
  findingClosed,
  findingReopened,
  eventQuarantined,
] as const;

export const auditUpcasters = [findingReviewedV1ToV2] as const;
