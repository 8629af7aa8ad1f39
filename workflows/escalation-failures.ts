/**
 * Failure types of refused actions: the workflow throws them, the API maps them to 409/422/400/422.
 * `moving`: the case's run has taken its budget of actions and is finishing its sends before it
 * continues as new; the API tries the action again on the new run (api/service.ts).
 */
export const FAILURE_TYPES = { conflict: 'StageConflict', lint: 'MessageLint', invalid: 'InvalidAction', limit: 'LimitReached', moving: 'RunMoving' } as const;
