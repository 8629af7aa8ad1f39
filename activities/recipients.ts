import type { MessageCase, Party } from '../playbook';
import type { Person, Roster } from '../config/settings';

export interface Recipient extends Person {
  party: Party;
}

/** Parties resolved to people at send time: the contact and CSM from the case, roles from the roster. */
export function resolveRecipients(parties: readonly Party[], kase: MessageCase, roster: Roster): { found: Recipient[]; missing: Party[] } {
  const found: Recipient[] = [];
  const missing: Party[] = [];
  for (const party of parties) {
    const person = party === 'contact' ? kase.contact : party === 'csm' ? kase.csm : roster[party];
    if (!person) missing.push(party);
    else if (!found.some((r) => r.email.toLowerCase() === person.email.toLowerCase())) found.push({ ...person, party });
  }
  return { found, missing };
}
