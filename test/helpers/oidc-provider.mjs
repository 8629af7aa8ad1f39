// A real OpenID provider for the tests (oidc-provider, its development login and consent pages), run
// as its own process: `node test/helpers/oidc-provider.mjs <config json>`. Any login name that is one
// of the configured people signs in as that person; their email, name and groups are released at
// UserInfo only (the provider is strict: scope claims are not put in the ID token), as some are.
import Provider from 'oidc-provider';

const { port, clients, people } = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients,
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  pkce: { required: () => true },
  cookies: { keys: ['oidc-test-provider-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const person = people[id];
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, email: person.email, email_verified: true, name: person.name, groups: person.groups }; } };
  },
});
provider.on('server_error', (_ctx, err) => console.error('provider error', err));
provider.listen(port, '127.0.0.1', () => console.log(`oidc provider ready ${issuer}`));
