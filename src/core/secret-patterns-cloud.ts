import { type SecretPattern, TOKEN_MARKER, token, tokenStart, VALUE_MARKER } from './secret-pattern-kit.js';

/** Credentials of cloud providers, code hosting and chat, recognised by their own format. */
export const CLOUD_PATTERNS: readonly SecretPattern[] = [
  // AWS access key IDs: AKIA (long-term), ASIA (STS temporary), ABIA (STS service bearer), ACCA
  // (context-specific), A3T… (older) + 16 upper-case alphanumerics. AWS's documented example
  // AKIAIOSFODNN7EXAMPLE is masked too; that is harmless.
  token(
    'aws-access-key-id',
    'gitleaks: aws-access-token',
    'AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9]',
    '[A-Z0-9]{16}',
    {
      whole: true,
    },
  ),
  {
    // AWS secret access keys (40 base64 characters) after their usual names: aws_secret_access_key,
    // AWS_SECRET_ACCESS_KEY, SecretAccessKey (JSON from `aws sts`), secret_key.
    kind: 'aws-secret-access-key',
    source: 'gitleaks: generic-api-key (AWS CLI configuration names)',
    regex:
      /(?<![A-Za-z0-9])(?<keep>(?:aws[_-]?)?secret[_-]?(?:access[_-]?)?key\\?["']?[ \t]{0,16}(?::=|=>|=|:)[ \t]{0,16}\\?["']?)(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
    marker: VALUE_MARKER,
  },
  // Amazon Bedrock long-lived API keys ("ABSK" + base64).
  token(
    'aws-bedrock-api-key',
    'gitleaks: aws-amazon-bedrock-api-key-long-lived',
    'ABSK',
    '[A-Za-z0-9+/]{109,269}={0,2}',
  ),
  // Google Cloud API keys: "AIza" + 35 URL-safe base64 characters (39 in all).
  token('gcp-api-key', 'gitleaks: gcp-api-key', 'AIza', '[0-9A-Za-z_-]{35}', { whole: true }),
  // Google OAuth client secrets ("GOCSPX-" + 28 characters).
  token('gcp-oauth-client-secret', 'Google OAuth client secret format', 'GOCSPX-', '[0-9A-Za-z_-]{20,100}', {
    whole: true,
  }),
  // Google OAuth 2.0 access tokens ("ya29." + URL-safe characters).
  token('gcp-oauth-access-token', 'Google OAuth access token format', 'ya29\\.', '[0-9A-Za-z_-]{20,2048}'),
  {
    // Azure Storage / Service Bus / Event Hubs connection strings:
    // "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=<base64>;..." and "SharedAccessKey=<base64>".
    kind: 'azure-connection-string-key',
    source: 'Azure connection string format',
    regex: /(?<keep>\b(?:AccountKey|SharedAccessKey)=)(?<secret>[A-Za-z0-9+/]{20,200}={0,2})/dgi,
    marker: VALUE_MARKER,
  },
  {
    // Azure AD (Entra ID) client secrets: 3 characters, a digit, "Q~", then 31-34 characters.
    kind: 'azure-ad-client-secret',
    source: 'gitleaks: azure-ad-client-secret',
    regex: /(?<![A-Za-z0-9_~.-])(?<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/dg,
    marker: VALUE_MARKER,
  },
  {
    // Signed URLs: Azure SAS "sig=", AWS SigV4 presigned "X-Amz-Signature=" and "X-Amz-Security-Token=",
    // Google Cloud Storage "X-Goog-Signature=". Anyone holding the URL has the access it grants.
    kind: 'signed-url-signature',
    source: 'Azure SAS, AWS SigV4 and GCS signed URL formats',
    regex:
      /(?<keep>[?&](?:sig|X-Amz-Signature|X-Amz-Security-Token|X-Goog-Signature)=)(?<secret>[A-Za-z0-9%+/=_.-]{16,4096})/dg,
    marker: VALUE_MARKER,
  },
  // GitHub tokens: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server,
  // e.g. Actions' GITHUB_TOKEN), ghr_ (refresh) + 36 or more base62 characters.
  token(
    'github-token',
    'gitleaks: github-pat, github-oauth, github-app-token, github-refresh-token',
    'gh[pousr]_',
    '[A-Za-z0-9]{36,251}',
    { whole: true },
  ),
  // GitHub fine-grained personal access tokens: "github_pat_" + 22 + "_" + 59 characters.
  token(
    'github-fine-grained-token',
    'gitleaks: github-fine-grained-pat',
    'github_pat_',
    '[A-Za-z0-9_]{22,251}',
    {
      whole: true,
    },
  ),
  // GitLab tokens: glpat- (personal/project/group access), gldt- (deploy), glrt- (runner),
  // glptt- (pipeline trigger), glft- (feed), glimt- (incoming mail), gloas- (OAuth app secret),
  // glsoat- (SCIM), glcbt- (CI job), glagent- (agent), glffct- (feature flags client); newer
  // ones carry ".01." style suffixes.
  token(
    'gitlab-token',
    'gitleaks: gitlab-pat, gitlab-pat-routable, gitlab-deploy-token, gitlab-runner-authentication-token, gitlab-ptt, gitlab-feed-token, gitlab-incoming-mail-token, gitlab-oauth-app-secret, gitlab-scim-token, gitlab-cicd-job-token, gitlab-kubernetes-agent-token, gitlab-feature-flag-client-token',
    'gl(?:pat|dt|rt|ptt|ft|imt|oas|soat|cbt|agent|ffct)-',
    '[A-Za-z0-9_-]{20,250}(?:\\.[A-Za-z0-9_-]{1,64}){0,3}',
  ),
  // GitLab runner registration tokens ("GR1348941" + 20 characters).
  token('gitlab-runner-registration-token', 'gitleaks: gitlab-rrt', 'GR1348941', '[A-Za-z0-9_-]{20,64}'),
  // Slack tokens: xoxb- (bot), xoxp- (user), xoxa- (workspace app), xoxr- (refresh), xoxs- (session),
  // xoxe- / xoxo- (rotating / legacy), and configuration tokens "xoxe.xoxb-" / "xoxe.xoxp-".
  token(
    'slack-token',
    'gitleaks: slack-bot-token, slack-user-token, slack-legacy-bot-token, slack-legacy-token, slack-legacy-workspace-token, slack-config-access-token, slack-config-refresh-token',
    'xox[abeoprs]-|xoxe\\.xox[bp]-',
    '[A-Za-z0-9-]{10,250}',
  ),
  // Slack app-level tokens: "xapp-1-A0123-...".
  token('slack-app-token', 'gitleaks: slack-app-token', 'xapp-', '[A-Za-z0-9-]{10,250}'),
  {
    // Slack incoming webhooks and workflow triggers: https://hooks.slack.com/services/T…/B…/secret.
    kind: 'slack-webhook',
    source: 'gitleaks: slack-webhook-url',
    regex:
      /(?<keep>https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?<secret>[A-Za-z0-9_/+-]{10,250})/dg,
    marker: VALUE_MARKER,
  },
  {
    // Microsoft Teams incoming webhooks: https://<tenant>.webhook.office.com/webhookb2/<ids>/IncomingWebhook/<secret>/<id>.
    kind: 'teams-webhook',
    source: 'gitleaks: microsoft-teams-webhook',
    regex:
      /(?<keep>https:\/\/[A-Za-z0-9-]{1,63}\.webhook\.office\.com\/webhookb2\/)(?<secret>[A-Za-z0-9@/_-]{20,400})/dg,
    marker: VALUE_MARKER,
  },
  {
    // Discord webhooks: https://discord.com/api/webhooks/<id>/<token>.
    kind: 'discord-webhook',
    source: 'Discord webhook URL format',
    regex:
      /(?<keep>https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{1,20}\/)(?<secret>[A-Za-z0-9_-]{20,100})/dg,
    marker: VALUE_MARKER,
  },
  {
    // JSON Web Tokens (RFC 7519): base64url header "eyJ..." . payload "eyJ..." . signature (may be
    // empty). Starts only at the start of a run (tokenStart: an "eyJ" deep inside "-eyJ-eyJ..." is not a start).
    kind: 'jwt',
    source: 'gitleaks: jwt',
    regex: new RegExp(
      `(?<keep>eyJ)${tokenStart('eyJ')}(?<secret>[A-Za-z0-9_-]{5,4096}\\.eyJ[A-Za-z0-9_-]{5,8192}\\.[A-Za-z0-9_-]{0,4096})`,
      'dg',
    ),
    marker: TOKEN_MARKER,
  },
];
