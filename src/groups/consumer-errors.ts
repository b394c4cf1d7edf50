/** Error codes only KIP-848 consumer groups answer with (numbers from Kafka's `Errors` enum). */
export const ConsumerGroupError = {
  UNSUPPORTED_VERSION: 35,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  INVALID_REGULAR_EXPRESSION: 128,
} as const;
