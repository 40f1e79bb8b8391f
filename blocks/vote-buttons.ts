import type { ActionsBlock } from '@slack/types';
import { ACTION_APPROVE, ACTION_DENY } from './ids.js';
import { MAX_BLOCK_ID, MAX_BUTTON_VALUE } from './limits.js';
import { clip } from './mrkdwn.js';

/** Approve (primary) and Deny (danger) for one request, as on the card and the App Home tab. */
export function voteButtons(requestId: string, title: string, blockId: string): ActionsBlock {
  const value = requestId.slice(0, MAX_BUTTON_VALUE);
  const label = clip(title, 'plain', 50);
  return {
    type: 'actions',
    block_id: blockId.slice(0, MAX_BLOCK_ID),
    elements: [
      {
        type: 'button',
        action_id: ACTION_APPROVE,
        text: { type: 'plain_text', text: 'Approve' },
        style: 'primary',
        value,
        accessibility_label: `Approve ${label}`,
      },
      {
        type: 'button',
        action_id: ACTION_DENY,
        text: { type: 'plain_text', text: 'Deny' },
        style: 'danger',
        value,
        accessibility_label: `Deny ${label}`,
      },
    ],
  };
}
