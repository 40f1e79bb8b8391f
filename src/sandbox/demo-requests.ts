/**
 * Realistic requests for the sandbox's "New demo request" button. They go through the real pipeline
 * API, signed with the demo client's secret, exactly as a pipeline would send them.
 */

import type { ApprovalRequestInput } from '../client/types.js';
import { RILEY } from './people.js';

export interface DemoRequest {
  key: string;
  /** The menu entry. */
  label: string;
  /** What it shows, for the menu's second line. */
  note: string;
  body: () => ApprovalRequestInput;
}

const requester = { email: RILEY.email as string, name: RILEY.name };

/** A fake credential, assembled at run time so no secret-looking literal sits in the source. */
function fakeAwsSecret(): string {
  return ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYSANDBOXKEY'].join('/');
}

function exportDiff(): string {
  return [
    'diff --git a/exports/customers.sql b/exports/customers.sql',
    '--- a/exports/customers.sql',
    '+++ b/exports/customers.sql',
    '@@ -1,3 +1,4 @@',
    '-SELECT id, country, created_at',
    '+SELECT id, email, country, created_at',
    '   FROM customers',
    '  WHERE deleted_at IS NULL',
    "+   AND created_at >= now() - interval '90 days'",
    'diff --git a/exports/job.env b/exports/job.env',
    '--- a/exports/job.env',
    '+++ b/exports/job.env',
    '@@ -1,2 +1,3 @@',
    ' DESTINATION=s3://acme-analytics/exports/customers/',
    ' AWS_ACCESS_KEY_ID_REF=vault:analytics/exporter',
    `+AWS_SECRET_ACCESS_KEY=${fakeAwsSecret()}`,
    '',
  ].join('\n');
}

function iamDiff(): string {
  return [
    'diff --git a/iam/roles/ci-deployer.tf b/iam/roles/ci-deployer.tf',
    '--- a/iam/roles/ci-deployer.tf',
    '+++ b/iam/roles/ci-deployer.tf',
    '@@ -8,6 +8,7 @@ resource "aws_iam_role_policy_attachment" "ci_deployer" {',
    '   role       = aws_iam_role.ci_deployer.name',
    '-  policy_arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"',
    '+  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"',
    ' }',
    '',
  ].join('\n');
}

export const DEMO_REQUESTS: readonly DemoRequest[] = [
  {
    key: 'db-export',
    label: 'Production database export',
    note: 'needs a DBA; its diff holds a credential, redacted before Slack sees it',
    body: () => ({
      action: 'db.export',
      title: 'Export 90 days of customers to the analytics bucket',
      requester,
      summary:
        'Nightly job `export-customers` now includes *email addresses* for the churn model.\n' +
        'Destination: `s3://acme-analytics/exports/customers/` (encrypted, 30-day retention).',
      resource: 'postgres://prod-db-1/app.customers',
      environment: 'production',
      risk: 'high',
      context: { rows: 182_340, columns: 4, pipeline: 'data-exports #512', ticket: 'DATA-221' },
      links: [
        { text: 'Pipeline run', url: 'https://ci.example.com/acme/data-exports/512' },
        { text: 'Data request DATA-221', url: 'https://tickets.example.com/browse/DATA-221' },
      ],
      diff: exportDiff(),
      ttl_seconds: 3600,
    }),
  },
  {
    key: 'iam-change',
    label: 'IAM role change',
    note: 'critical: two people from @security must approve',
    body: () => ({
      action: 'iam.role.attach',
      title: 'Attach AdministratorAccess to the ci-deployer role',
      requester,
      summary:
        'Terraform plan from `infra/iam`: the CI deployer gets _full admin_ for the account migration.\n' +
        'Rollback: revert the PR; the attachment is removed on the next apply.',
      resource: 'arn:aws:iam::123456789012:role/ci-deployer',
      environment: 'production',
      risk: 'critical',
      context: { account: '123456789012', 'terraform plan': '1 to change', pr: 481 },
      links: [{ text: 'Pull request #481', url: 'https://git.example.com/acme/infra/pull/481' }],
      diff: iamDiff(),
      ttl_seconds: 7200,
    }),
  },
  {
    key: 'staging-deploy',
    label: 'Staging deploy (low risk)',
    note: 'auto-approved by the sandbox policy, and still audited',
    body: () => ({
      action: 'deploy.service',
      title: 'Deploy web 2.14.0 to staging',
      requester,
      summary: 'Routine staging rollout of `web` from `main` (commit `4e1a9c0`).',
      resource: 'k8s/staging/web',
      environment: 'staging',
      risk: 'low',
      context: { commit: '4e1a9c0', image: 'web:2.14.0' },
      ttl_seconds: 900,
    }),
  },
];

export function demoRequest(key: string): DemoRequest | null {
  return DEMO_REQUESTS.find((d) => d.key === key) ?? null;
}
