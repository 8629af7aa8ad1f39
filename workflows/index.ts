export { escalationWorkflow } from './escalation';
export { webhookEndpointWorkflow, webhookStreamWorkflow } from './webhooks';
