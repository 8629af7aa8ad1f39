export { escalationWorkflow } from './escalation';
