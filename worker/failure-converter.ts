import { DefaultFailureConverter } from '@temporalio/common';

// Loaded by path inside the workflow sandbox when payloads are encrypted: failure messages are
// then encoded like any payload instead of sitting in history as plain text.
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
