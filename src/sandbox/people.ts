/** The demo workspace: its people (each with the role they play), user groups and the approvals channel. */

import type { Directory } from './render/mrkdwn.js';
import type { EmulatedUser, SlackEmulator } from './slack-emulator.js';
import { HOME_TEAM } from './slack-payloads.js';

export interface DemoPerson extends EmulatedUser {
  name: string;
  /** What they can do here, shown next to their name in the "Acting as" list. */
  role: string;
}

export interface DemoGroup {
  id: string;
  handle: string;
  members: string[];
}

export const CHANNEL = { id: 'C0APPROVALS', name: 'approvals' } as const;

/** The workspace of someone reached over Slack Connect: not the one the app is installed in. */
export const PARTNER_TEAM = 'T0PARTNER';

export const RILEY: DemoPerson = {
  id: 'U0RILEY',
  name: 'Riley Chen',
  email: 'riley@sandbox.example',
  role: 'requester',
};

export const DEMO_PEOPLE: readonly DemoPerson[] = [
  RILEY,
  { id: 'U0ADA', name: 'Ada Okafor', email: 'ada@sandbox.example', role: 'approver: DBA, security' },
  { id: 'U0BEN', name: 'Ben Ito', email: 'ben@sandbox.example', role: 'approver: DBA, release' },
  {
    id: 'U0CHLOE',
    name: 'Chloé Martin',
    email: 'chloe@sandbox.example',
    role: 'approver: security, release',
  },
  { id: 'U0DANA', name: 'Dana Reyes', email: 'dana@sandbox.example', role: 'admin' },
  { id: 'U0GUS', name: 'Gus Guest', email: 'gus@partner.example', role: 'guest', is_restricted: true },
  {
    id: 'U0EVE',
    name: 'Eve Partner',
    email: 'eve@partner.example',
    role: 'other workspace (Slack Connect)',
    team_id: PARTNER_TEAM,
  },
];

export const DEMO_GROUPS: readonly DemoGroup[] = [
  { id: 'S0DBA', handle: 'dba', members: ['U0ADA', 'U0BEN'] },
  { id: 'S0SECURITY', handle: 'security', members: ['U0ADA', 'U0CHLOE'] },
  { id: 'S0RELEASE', handle: 'release', members: ['U0BEN', 'U0CHLOE'] },
];

export const ADMIN_IDS = ['U0DANA'];

/** Puts the demo people and groups into the emulated workspace. */
export function populate(slack: SlackEmulator): void {
  for (const p of DEMO_PEOPLE) slack.addUser({ ...p, team_id: p.team_id ?? HOME_TEAM.id });
  for (const g of DEMO_GROUPS) slack.groups.set(g.id, [...g.members]);
  // The bot is in the approvals channel (the start-time channel check asks conversations.info), and so
  // is everyone (/approvals shows a request only to members of its channel).
  slack.addChannel({
    id: CHANNEL.id,
    name: CHANNEL.name,
    is_member: true,
    members: DEMO_PEOPLE.map((p) => p.id),
  });
}

/** Names for mentions on the page. */
export function demoDirectory(slack: SlackEmulator): Directory {
  return {
    userName: (id) => slack.users.get(id)?.name ?? (id === 'UCSBOT' ? 'Countersign' : null),
    channelName: (id) => (id === CHANNEL.id ? CHANNEL.name : null),
    groupName: (id) => DEMO_GROUPS.find((g) => g.id === id)?.handle ?? null,
  };
}
