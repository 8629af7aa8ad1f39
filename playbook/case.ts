/**
 * A case as a state machine: given a case and an action or a clock tick, the next case and the messages
 * to send. No I/O and no clock of its own (every function takes `now`), so the workflow can run it
 * deterministically and the tests can run it without Temporal. Along its seams:
 * state (what a case is), registry (each action once: its payload, the stages that allow it, its role and path), windows (the one place a window is
 * laid on the clock), calendar (business time), deadlines (derived, never stored), clock (timer points), actions, deliveries,
 * limits (what a case may hold).
 */
export * from './state';
export * from './registry';
export * from './windows';
export * from './calendar';
export * from './deadlines';
export * from './clock';
export * from './actions';
export * from './deliveries';
export * from './limits';
