// A real OpenID Connect provider (the `oidc-provider` package) for Comity's single
// sign-on tests. It listens on 127.0.0.1:$PORT with issuer http://127.0.0.1:$PORT,
// knows one confidential client (`comity`, secret $CLIENT_SECRET, redirect URI
// $REDIRECT_URI) and a few test accounts with a `comity_roles` claim. Log-in uses the
// package's development interactions: a plain HTML form that accepts the account's name
// with any password. It prints "listening <issuer>" once it accepts connections.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? '0');
const redirectUri = process.env.REDIRECT_URI;
const clientSecret = process.env.CLIENT_SECRET ?? 'comity-test-client-secret';
if (!port || !redirectUri) {
  console.error('set PORT and REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// Each account's claims. `alice` maps to Comity roles; `mallory` asks for a role no
// node should grant from claims; `nobody` has no roles at all.
const accounts = {
  alice: { preferred_username: 'alice.sso', name: 'Alice Example', comity_roles: ['central_authority_officer', 'supervisor'] },
  bob: { preferred_username: 'bob.sso', name: 'Bob Example', comity_roles: ['requesting_prosecutor', 'made_up_role'] },
  mallory: { preferred_username: 'mallory.sso', name: 'Mallory Example', comity_roles: ['administrator'] },
  nobody: { preferred_username: 'nobody.sso', name: 'Nobody Example', comity_roles: [] },
};

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'comity',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    comity: ['comity_roles'],
  },
  // Put the scope's claims in the ID token itself, which is what Comity reads.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // The one client is first-party: consent is given without asking.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile comity');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...claims };
      },
    };
  },
});

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
