import { ACTIONS, ACTION_TYPES, type ActionType, type LinkAction } from '../playbook';
import type { ApiRole } from './auth';

/** An action endpoint, derived from the action registry (playbook/registry.ts). */
export interface ActionRoute {
  /** As Express matches it: `/escalations/:id/tasks/:kind/complete`. */
  path: string;
  /** As OpenAPI writes it: `/escalations/{id}/tasks/{kind}/complete`. */
  template: string;
  action: ActionType;
  role: ApiRole;
  summary: string;
  /** Payload fields the path carries (`kind` of a task). */
  pathFields: string[];
  link?: readonly LinkAction[];
}

/** Every action people take through the API: an action with an `http` entry in the registry. */
export const ACTION_ROUTES: ActionRoute[] = ACTION_TYPES.flatMap((action) => {
  const def = ACTIONS[action];
  if (!('http' in def)) return [];
  const template = `/escalations/{id}/${def.http.path}`;
  const pathFields = [...def.http.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return [{ path: template.replace(/\{(\w+)\}/g, ':$1'), template, action, role: def.http.role, summary: def.summary, pathFields, ...('link' in def.http ? { link: def.http.link } : {}) }];
});
