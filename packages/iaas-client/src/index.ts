export { IaasClient, IdentityError, type IaasClientOptions } from './client.ts';
export { QingCloudApi, parseEnvelope, type CallOptions, type QingCloudApiOptions, type RequestEvent } from './api.ts';
export { CONFIG_DEFAULTS, collapseUri, endpointUrl, loadConfig, parseConfig, parseConfigText, type IaasConfig } from './config.ts';
export { Credentials } from './credentials.ts';
export {
  IaasClientError,
  IaasConfigError,
  IaasError,
  IaasInputError,
  IaasProtocolError,
  IaasResponseError,
  IaasTransportError,
  JobFailedError,
  JobNotFoundError,
  JobTimeoutError,
  RetCode,
  isAuthFailure,
  isNotFound,
  isPermissionDenied,
  isQuotaExceeded,
  isServerBusy,
  type DeliveryState,
} from './errors.ts';
export {
  SIGNATURE_VERSION,
  TIMESTAMP_PATTERN,
  canonicalQuery,
  encodeSignedQuery,
  formatTimestamp,
  hmacBase64,
  isSignatureMethod,
  parseTimestamp,
  signRequest,
  stringToSign,
  withSignerParams,
  type HttpMethod,
  type SignRequestInput,
  type SignatureMethod,
  type SignedRequest,
} from './sign.ts';
export { percentDecode, percentEncode } from './encode.ts';
export { flattenParams, type ParamInput, type ParamValue } from './params.ts';
export { ActionRateLimiter, DEFAULT_RATE_LIMITS, TokenBucket, type RateLimit, type RateLimitOptions } from './rate-limit.ts';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.ts';
export { systemClock, type Clock } from './clock.ts';
export { FieldReader } from './decode.ts';
export { PAGE_SIZE, type PageOptions } from './actions/paging.ts';
export { AmbiguousCreateError, type AttachNicsInput, type CreateNicsInput, type DescribeNicsFilter } from './actions/nics.ts';
export { type DescribeJobsFilter, type JobOutcome, type WaitJobOptions } from './actions/jobs.ts';
export { type DescribeVxnetsFilter } from './actions/vxnets.ts';
export { type AllocateVipsInput, type DescribeVipsFilter, type ReleaseVipsInput } from './actions/vips.ts';
export { type AddSecurityGroupRulesInput, type DescribeSecurityGroupRulesFilter } from './actions/security-groups.ts';
export { type ResourceTagPair } from './actions/misc.ts';
export type * from './types.ts';
