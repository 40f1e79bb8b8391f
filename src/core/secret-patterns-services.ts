import { hasDigitAndLetter, type SecretPattern, token, VALUE_MARKER } from './secret-pattern-kit.js';

/** Credentials of other services (payments, AI, package registries, SaaS APIs), recognised by their own format. */
export const SERVICE_PATTERNS: readonly SecretPattern[] = [
  // Stripe secret and restricted keys: sk_live_, rk_live_, sk_test_, rk_test_, sk_prod_
  // (publishable pk_ keys are public and left alone).
  token('stripe-key', 'gitleaks: stripe-access-token', '[sr]k_(?:live|test|prod)_', '[A-Za-z0-9]{10,250}', {
    whole: true,
  }),
  // Webhook signing secrets: Standard Webhooks / Svix (Countersign's own client secrets) and Stripe: "whsec_".
  token('webhook-secret', 'Standard Webhooks secret format', 'whsec_', '[A-Za-z0-9+/=]{16,250}'),
  // Anthropic API keys: "sk-ant-api03-..." (and admin keys "sk-ant-admin01-...").
  token(
    'anthropic-key',
    'gitleaks: anthropic-api-key, anthropic-admin-api-key',
    'sk-ant-(?:[a-z]{2,8}\\d{2}-)?',
    '[A-Za-z0-9_-]{20,250}',
  ),
  // OpenAI API keys: legacy "sk-" + 48 characters, project "sk-proj-", service account "sk-svcacct-",
  // admin "sk-admin-". Must not follow a letter ("risk-free", "task-...") and must mix digits and letters.
  token(
    'openai-key',
    'gitleaks: openai-api-key',
    'sk-(?:(?:proj|svcacct|admin|None)-)?',
    '[A-Za-z0-9_-]{20,250}',
    {
      accept: (secret) => hasDigitAndLetter(secret) && !secret.startsWith('ant-'),
    },
  ),
  // Perplexity API keys ("pplx-" + 48).
  token('perplexity-key', 'gitleaks: perplexity-api-key', 'pplx-', '[A-Za-z0-9]{48}', { whole: true }),
  // Hugging Face access tokens ("hf_" + 34 letters) and organisation tokens ("api_org_").
  token(
    'huggingface-token',
    'gitleaks: huggingface-access-token, huggingface-organization-api-token',
    'hf_|api_org_',
    '[A-Za-z]{34}',
    { whole: true },
  ),
  // npm access tokens: "npm_" + 36 base62 characters.
  token('npm-token', 'gitleaks: npm-access-token', 'npm_', '[A-Za-z0-9]{36}', { whole: true }),
  // PyPI upload tokens (a macaroon for pypi.org).
  token('pypi-token', 'gitleaks: pypi-upload-token', 'pypi-AgEIcHlwaS5vcmc', '[A-Za-z0-9_-]{50,1000}'),
  // RubyGems API keys.
  token('rubygems-token', 'gitleaks: rubygems-api-token', 'rubygems_', '[a-f0-9]{48}', { whole: true }),
  // Clojars deploy tokens.
  token('clojars-token', 'gitleaks: clojars-api-token', 'CLOJARS_', '[A-Za-z0-9]{60}', { whole: true }),
  // JFrog Artifactory API keys ("AKCp") and reference tokens ("cmVmd").
  token(
    'artifactory-token',
    'gitleaks: artifactory-api-key, artifactory-reference-token',
    'AKCp|cmVmd',
    '[A-Za-z0-9]{59,69}',
    { whole: true },
  ),
  // HashiCorp Vault tokens (1.10+): hvs. (service), hvb. (batch), hvr. (recovery).
  token(
    'vault-token',
    'gitleaks: vault-service-token, vault-batch-token',
    'hv[sbr]\\.',
    '[A-Za-z0-9_-]{24,300}',
  ),
  {
    // HashiCorp Terraform Cloud / Enterprise API tokens: 14 characters ".atlasv1." 60-70 characters.
    kind: 'terraform-cloud-token',
    source: 'gitleaks: hashicorp-tf-api-token',
    regex:
      /(?<![A-Za-z0-9_.-])(?<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])/dg,
    marker: VALUE_MARKER,
  },
  // Doppler tokens: personal (dp.pt.), service (dp.st.), CLI (dp.ct.), service account (dp.sa.), SCIM, audit.
  token(
    'doppler-token',
    'gitleaks: doppler-api-token',
    'dp\\.(?:pt|st|ct|sa|scim|audit)\\.',
    '[A-Za-z0-9]{40,44}',
    {
      whole: true,
    },
  ),
  // 1Password service account tokens ("ops_eyJ…") and account secret keys ("A3-…").
  token(
    'onepassword-service-token',
    'gitleaks: 1password-service-account-token',
    'ops_',
    'eyJ[A-Za-z0-9+/]{250,4096}={0,3}',
  ),
  token(
    'onepassword-secret-key',
    'gitleaks: 1password-secret-key',
    'A3-',
    '[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}',
    { whole: true },
  ),
  // age encryption secret keys.
  token(
    'age-secret-key',
    'gitleaks: age-secret-key',
    'AGE-SECRET-KEY-1',
    '[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}',
  ),
  // Databricks personal access tokens ("dapi" + 32 hex).
  token('databricks-token', 'gitleaks: databricks-api-token', 'dapi', '[a-f0-9]{32}(?:-\\d)?', {
    whole: true,
  }),
  // DigitalOcean personal access (dop_v1_), OAuth (doo_v1_) and refresh (dor_v1_) tokens.
  token(
    'digitalocean-token',
    'gitleaks: digitalocean-pat, digitalocean-access-token, digitalocean-refresh-token',
    'do[opr]_v1_',
    '[a-f0-9]{64}',
    { whole: true },
  ),
  // Fly.io tokens.
  token(
    'flyio-token',
    'gitleaks: flyio-access-token',
    'fo1_|fm1[ar]_|fm2_',
    '[A-Za-z0-9+/_-]{43,4096}={0,3}',
  ),
  // Grafana Cloud (glc_) and service account (glsa_) tokens, and API keys ("eyJrIjoi").
  token(
    'grafana-token',
    'gitleaks: grafana-cloud-api-token, grafana-service-account-token, grafana-api-key',
    'glc_|glsa_|eyJrIjoi',
    '[A-Za-z0-9+/_]{32,400}={0,3}',
  ),
  // Linear API keys ("lin_api_").
  token('linear-key', 'gitleaks: linear-api-key', 'lin_api_', '[A-Za-z0-9]{40}', { whole: true }),
  // Notion integration tokens ("ntn_").
  token('notion-token', 'gitleaks: notion-api-token', 'ntn_', '[0-9]{11}[A-Za-z0-9]{35}', { whole: true }),
  // Postman API keys ("PMAK-").
  token('postman-key', 'gitleaks: postman-api-token', 'PMAK-', '[a-fA-F0-9]{24}-[a-fA-F0-9]{34}', {
    whole: true,
  }),
  // Prefect (pnu_), Pulumi (pul-), ReadMe (rdme_), Infracost (ico-) and Scalingo (tk-us-) tokens.
  token('prefect-token', 'gitleaks: prefect-api-token', 'pnu_', '[A-Za-z0-9]{36}', { whole: true }),
  token('pulumi-token', 'gitleaks: pulumi-api-token', 'pul-', '[a-f0-9]{40}', { whole: true }),
  token('readme-key', 'gitleaks: readme-api-token', 'rdme_', '[a-z0-9]{70}', { whole: true }),
  token('infracost-key', 'gitleaks: infracost-api-token', 'ico-', '[A-Za-z0-9]{32}', { whole: true }),
  token('scalingo-token', 'gitleaks: scalingo-api-token', 'tk-us-', '[A-Za-z0-9_-]{48}', { whole: true }),
  // PlanetScale API, OAuth tokens and database passwords.
  token(
    'planetscale-token',
    'gitleaks: planetscale-api-token, planetscale-oauth-token, planetscale-password',
    'pscale_(?:tkn|oauth|pw)_',
    '[A-Za-z0-9_=.-]{32,64}',
    { whole: true },
  ),
  // Sentry user auth tokens (sntryu_) and organisation tokens (sntrys_).
  token(
    'sentry-token',
    'gitleaks: sentry-user-token, sentry-org-token',
    'sntry[us]_',
    '[A-Za-z0-9+/=_]{64,600}',
  ),
  // SendGrid API keys: "SG." + 22 + "." + 43 characters.
  token('sendgrid-key', 'gitleaks: sendgrid-api-token', 'SG\\.', '[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}', {
    whole: true,
  }),
  // Brevo (Sendinblue) API keys.
  token('sendinblue-key', 'gitleaks: sendinblue-api-token', 'xkeysib-', '[a-f0-9]{64}-[A-Za-z0-9]{16}', {
    whole: true,
  }),
  // Shopify access tokens and shared secrets: shpat_, shpca_, shppa_, shpss_.
  token(
    'shopify-token',
    'gitleaks: shopify-access-token, shopify-custom-access-token, shopify-private-app-access-token, shopify-shared-secret',
    'shp(?:at|ca|pa|ss)_',
    '[a-fA-F0-9]{32}',
    { whole: true },
  ),
  // Shippo API tokens.
  token('shippo-token', 'gitleaks: shippo-api-token', 'shippo_(?:live|test)_', '[a-fA-F0-9]{40}', {
    whole: true,
  }),
  // Square access tokens (EAAA…, sq0atp-) and OAuth secrets (sq0csp-).
  token('square-token', 'gitleaks: square-access-token', 'EAAA|sq0atp-|sq0csp-', '[A-Za-z0-9_-]{22,60}', {
    whole: true,
  }),
  // Meta (Facebook) page access tokens.
  token('facebook-token', 'gitleaks: facebook-page-access-token', 'EAA[MC]', '[A-Za-z0-9]{100,400}', {
    whole: true,
  }),
  // Twilio API keys ("SK" + 32 hex).
  token('twilio-key', 'gitleaks: twilio-api-key', 'SK', '[0-9a-fA-F]{32}', { whole: true }),
  // Dynatrace API tokens.
  token(
    'dynatrace-token',
    'gitleaks: dynatrace-api-token',
    'dt0c01\\.',
    '[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64}',
    {
      whole: true,
    },
  ),
  // EasyPost API keys (EZAK live, EZTK test).
  token(
    'easypost-key',
    'gitleaks: easypost-api-token, easypost-test-api-token',
    'EZ[AT]K',
    '[A-Za-z0-9]{54}',
    {
      whole: true,
    },
  ),
  // Duffel, Frame.io, Typeform, Heroku (v2), Octopus Deploy, OpenShift, Alibaba Cloud.
  token('duffel-token', 'gitleaks: duffel-api-token', 'duffel_(?:test|live)_', '[A-Za-z0-9_=-]{43}', {
    whole: true,
  }),
  token('frameio-token', 'gitleaks: frameio-api-token', 'fio-u-', '[A-Za-z0-9_=-]{64}', { whole: true }),
  token('typeform-token', 'gitleaks: typeform-api-token', 'tfp_', '[A-Za-z0-9_.=-]{59}', { whole: true }),
  token('heroku-key', 'gitleaks: heroku-api-key-v2', 'HRKU-AA', '[0-9A-Za-z_-]{58}', { whole: true }),
  token('octopus-deploy-key', 'gitleaks: octopus-deploy-api-key', 'API-', '[A-Z0-9]{26}', { whole: true }),
  token('openshift-token', 'gitleaks: openshift-user-token', 'sha256~', '[A-Za-z0-9_-]{43}', { whole: true }),
  token('alibaba-access-key-id', 'gitleaks: alibaba-access-key-id', 'LTAI', '[A-Za-z0-9]{20}', {
    whole: true,
  }),
  // Atlassian API tokens ("ATATT3…").
  token('atlassian-token', 'gitleaks: atlassian-api-token', 'ATATT3', '[A-Za-z0-9_=-]{186}', { whole: true }),
  // New Relic user API keys (NRAK-) and insert keys (NRII-).
  token(
    'newrelic-key',
    'gitleaks: new-relic-user-api-key, new-relic-insert-key',
    'NRAK-|NRII-',
    '[A-Za-z0-9-]{27,32}',
    {
      whole: true,
    },
  ),
  // SonarQube user, project and analysis tokens.
  token('sonar-token', 'gitleaks: sonar-api-token', 'sq[upa]_', '[a-f0-9]{40}', { whole: true }),
  // Sourcegraph access tokens.
  token(
    'sourcegraph-token',
    'gitleaks: sourcegraph-access-token',
    'sgp_',
    '(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}',
    {
      whole: true,
    },
  ),
  // Cloudflare origin CA keys.
  token(
    'cloudflare-origin-ca-key',
    'gitleaks: cloudflare-origin-ca-key',
    'v1\\.0-',
    '[a-f0-9]{24}-[a-f0-9]{146}',
    {
      whole: true,
    },
  ),
  // ClickHouse Cloud API secret keys.
  token('clickhouse-key', 'gitleaks: clickhouse-cloud-api-secret-key', '4b1d', '[A-Za-z0-9]{38}', {
    whole: true,
  }),
  // Flutterwave secret and encryption keys.
  token(
    'flutterwave-key',
    'gitleaks: flutterwave-secret-key, flutterwave-encryption-key',
    'FLWSECK(?:_TEST)?-',
    '[A-Za-z0-9]{12,32}(?:-X)?',
    {
      whole: true,
    },
  ),
  {
    // Telegram bot tokens: "<bot id>:" + 35 characters starting with "A".
    kind: 'telegram-bot-token',
    source: 'gitleaks: telegram-bot-api-token',
    regex: /(?<![A-Za-z0-9_:-])(?<keep>\d{5,16}:)(?<secret>A[A-Za-z0-9_-]{34})(?![A-Za-z0-9_-])/dg,
    marker: VALUE_MARKER,
  },
];
