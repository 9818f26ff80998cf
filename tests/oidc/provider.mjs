// A real OpenID provider on loopback for the single sign-on tests: the npm package
// oidc-provider (OpenID Certified), configured for one client that RecTrack plays.
// Started by tests/oidc/fixtures.py, which passes everything in the environment:
//
//   OIDC_PORT          the loopback port to listen on (the issuer is http://127.0.0.1:PORT)
//   OIDC_CLIENT_ID     the client's id
//   OIDC_CLIENT_JWK    the client's PUBLIC key (JSON JWK) for private_key_jwt
//   OIDC_REDIRECT_URI  the client's one redirect URI
//   OIDC_SIGNING_JWK   the provider's own PRIVATE signing key (JSON JWK), so that tests can
//                      forge tokens it would have signed (a new key when unset)
//   OIDC_ACCOUNTS      JSON {"subject": {"email": ..., "email_verified": ...}, ...}
//   OIDC_NOW           the instant (ISO 8601) this provider's clock starts from: the test
//                      suite's frozen clock, so both sides agree on iat and exp
//
// Interactions are driven by the test's HTTP client: GET /interaction/<uid>?account=<sub>
// signs that account in (and &acr=<value> claims that authentication level); consent is
// granted without asking (loadExistingGrant). Prints "listening <issuer>" when ready.
import crypto from 'node:crypto';

import Provider from 'oidc-provider';

// The provider's clock ticks from OIDC_NOW. oidc-provider reads time only through
// Date.now() (lib/helpers/epoch_time.js, its memory adapter, its LRU caches).
if (process.env.OIDC_NOW) {
  const realNow = Date.now;
  const offset = Date.parse(process.env.OIDC_NOW) - realNow();
  if (Number.isNaN(offset)) throw new Error(`OIDC_NOW is not an instant: ${process.env.OIDC_NOW}`);
  Date.now = () => realNow() + offset;
}

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const signingKey = process.env.OIDC_SIGNING_JWK
  ? JSON.parse(process.env.OIDC_SIGNING_JWK)
  : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const configuration = {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [JSON.parse(process.env.OIDC_CLIENT_JWK)] },
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: 'provider-signing-key', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['rectrack-test-provider-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  acrValues: ['urn:rectrack:test:phishing-resistant', 'urn:rectrack:test:password'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) };
  },
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'text/plain';
    ctx.body = `${out.error}: ${out.error_description}`;
  },
};

const provider = new Provider(issuer, configuration);

provider.use(async (ctx, next) => {
  const match = ctx.method === 'GET' && ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.prompt.name !== 'login') {
    ctx.status = 400;
    ctx.body = `unexpected prompt ${details.prompt.name}`;
    return undefined;
  }
  const account = String(ctx.query.account || '');
  const result = Object.hasOwn(accounts, account)
    ? { login: { accountId: account, ...(ctx.query.acr ? { acr: String(ctx.query.acr) } : {}) } }
    : { error: 'access_denied', error_description: 'no such test account' };
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
  return undefined;
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
