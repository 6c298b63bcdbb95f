/**
 * What an SQS call's failure means for the caller: worth asking again (no answer at all, the
 * service failing or throttling) or not (credentials, permissions, a queue that does not
 * exist, a request it rejects), and the error that says so.
 *
 *     no HTTP answer, and not a credentials error        transient (refused, reset, timed out, DNS)
 *     HTTP 5xx, 429 or a throttling code                 transient
 *     a credentials provider that found nothing          BrokerRefusedError 'credentials'
 *     HTTP 403, or an authentication code                BrokerRefusedError 'credentials' / 'permission'
 *     QueueDoesNotExist                                  QueueDeletedError
 *     anything else the service answered                 BrokerRefusedError 'request'
 *
 * A settlement or extension refused for its receipt handle (sqsLeaseLost) is none of these to
 * its delivery: the message is no longer this consumer's (LeaseLostError, sqs-source.ts).
 *
 * The SDK's error carries the HTTP status in `$metadata.httpStatusCode` (absent when no answer
 * came) and the service's error code as its `name`.
 */
import { BrokerRefusedError, BrokerUnavailableError, QueueDeletedError } from '../brokers/broker-error.js';

interface SdkError {
  readonly name?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: unknown;
}

/** Codes of a request whose signature or credentials the service did not accept (whatever the status). */
const CREDENTIAL_CODES = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidSecurity',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'AuthFailure',
  'InvalidAccessKeyId',
]);
/** Codes of a request the service authenticated but does not allow. */
const PERMISSION_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'KMS.AccessDeniedException']);
/** Codes the service answers when asked too fast: asking later succeeds. */
const THROTTLING_CODES = new Set(['ThrottlingException', 'Throttling', 'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException', 'KmsThrottled', 'KMS.ThrottlingException']);
/** The SDK's credential and token providers found nothing usable: no request was sent. */
const PROVIDER_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const QUEUE_GONE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

/**
 * Codes of a receipt handle the service no longer honours: the visibility timeout passed and the
 * message was received again (a new handle), or it is visible again (not in flight), or deleted.
 * AWS also answers InvalidParameterValue naming the ReceiptHandle ("Message does not exist or is
 * not available for visibility timeout change").
 */
const LEASE_CODES = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight']);

/** The service's code when `err` says the receipt handle no longer holds the message, else undefined. */
export function sqsLeaseLost(err: unknown): string | undefined {
  const code = codeOf(err);
  if (LEASE_CODES.has(code)) return code;
  if (code === 'InvalidParameterValue' && /ReceiptHandle/i.test(String((err as Error | undefined)?.message))) return code;
  return undefined;
}

const codeOf = (err: unknown): string => {
  const name = (err as SdkError | undefined)?.name;
  return typeof name === 'string' ? name : '';
};
const statusOf = (err: unknown): number | undefined => (err as SdkError | undefined)?.$metadata?.httpStatusCode;

/** Asking again may succeed: no HTTP answer (and not a credentials provider's failure), a 5xx, or throttling. */
export function sqsTransient(err: unknown): boolean {
  const code = codeOf(err);
  const status = statusOf(err);
  if (status === undefined) return !PROVIDER_ERRORS.has(code);
  return status >= 500 || status === 429 || THROTTLING_CODES.has(code);
}

/**
 * The error a caller gets for `err`: a transient one as a BrokerUnavailableError naming `where`;
 * a queue that does not exist as a QueueDeletedError; any other refusal as a BrokerRefusedError
 * saying whether the credentials, a permission or the request was refused.
 */
export function sqsError(where: string, queue: string, err: unknown): Error {
  if (sqsTransient(err)) return new BrokerUnavailableError(where, err);
  const code = codeOf(err);
  if (QUEUE_GONE.has(code)) return new QueueDeletedError(where, queue, `the server answered ${code}`, err);
  if (PROVIDER_ERRORS.has(code) || CREDENTIAL_CODES.has(code)) return new BrokerRefusedError(where, 'credentials', err);
  if (PERMISSION_CODES.has(code) || statusOf(err) === 403) return new BrokerRefusedError(where, 'permission', err);
  return new BrokerRefusedError(where, 'request', err);
}
