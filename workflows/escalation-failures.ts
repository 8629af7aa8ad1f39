/** Failure types of refused actions: the workflow throws them, the API maps them to 409/422/400/422. */
export const FAILURE_TYPES = { conflict: 'StageConflict', lint: 'MessageLint', invalid: 'InvalidAction', limit: 'LimitReached' } as const;
