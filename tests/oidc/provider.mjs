// A real OpenID Connect provider (oidc-provider) for Homeroom's SSO e2e tests.
//
// Environment:
//   OIDC_PORT            port to listen on, on 127.0.0.1 (default 0: any free port)
//   OIDC_CLIENT_ID       the one client's id
//   OIDC_CLIENT_SECRET   its secret (client_secret_basic or client_secret_post)
//   OIDC_REDIRECT_URIS   its redirect URIs, comma-separated
//   OIDC_USERS_FILE      JSON file { "<login>": { sub?, email, email_verified, employee_id, name } },
//                        read again on every lookup so a test can change a user's claims
//   OIDC_USERS           the same JSON inline, when there is no file
//
// Prints `issuer=<url>` on stdout once listening. There is no login form: the
// authorization request's `login_hint` names the test user, and the
// interaction route signs that user in at once (consent is implied for the
// one first-party client). An unknown login_hint ends the flow with
// `error=access_denied`.

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const required = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is required`);
    process.exit(2);
  }
  return value;
};

const clientId = required('OIDC_CLIENT_ID');
const clientSecret = required('OIDC_CLIENT_SECRET');
const redirectUris = required('OIDC_REDIRECT_URIS').split(',').map((u) => u.trim()).filter(Boolean);
const port = Number(process.env.OIDC_PORT ?? 0);

function users() {
  const file = process.env.OIDC_USERS_FILE;
  const text = file ? readFileSync(file, 'utf8') : (process.env.OIDC_USERS ?? '{}');
  return JSON.parse(text);
}

const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: 'e2e-rs256',
  alg: 'RS256',
  use: 'sig',
};

const scopes = ['openid', 'email', 'profile', 'employee'];

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['e2e-cookie-key'] },
  pkce: { required: () => true },
  // Scope claims go into the ID token itself (Homeroom reads no userinfo).
  conformIdTokenClaims: false,
  scopes,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    employee: ['employee_id'],
  },
  features: { devInteractions: { enabled: false } },
  async findAccount(_ctx, id) {
    const user = users()[id];
    if (!user) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { ...user, sub: user.sub ?? id };
      },
    };
  },
  // The one client is first party: every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(scopes.join(' '));
    await grant.save();
    return grant;
  },
};

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);

  // The interaction route: sign in the user the login_hint names.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || !/^\/interaction\/[^/]+$/.test(ctx.path)) {
      return next();
    }
    const { params } = await provider.interactionDetails(ctx.req, ctx.res);
    const login = String(params.login_hint ?? '');
    const result = users()[login]
      ? { login: { accountId: login } }
      : { error: 'access_denied', error_description: 'no such test user' };
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    return undefined;
  });

  server.on('request', provider.callback());
  console.log(`issuer=${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
