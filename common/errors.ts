/**
 * Failure type names are part of the API: the workflow retry policies and the per-host status
 * (unreachable vs failed) are decided by these strings.
 */
export const FailureTypes = {
  /** TCP or SSH handshake could not be completed; worth retrying. */
  HostUnreachable: 'HostUnreachable',
  /** The host presented a key that known_hosts does not list for it. Never retried. */
  HostKeyUnknown: 'HostKeyUnknown',
  /** known_hosts lists other keys for this host: possibly a man in the middle. Never retried. */
  HostKeyChanged: 'HostKeyChanged',
  /** The host refused our credentials. Never retried. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** A secret reference could not be resolved on the worker. Never retried. */
  SecretUnavailable: 'SecretUnavailable',
} as const;

export type FailureType = (typeof FailureTypes)[keyof typeof FailureTypes];

export const nonRetryableFailureTypes: FailureType[] = [
  FailureTypes.HostKeyUnknown,
  FailureTypes.HostKeyChanged,
  FailureTypes.AuthenticationFailed,
  FailureTypes.SecretUnavailable,
];
