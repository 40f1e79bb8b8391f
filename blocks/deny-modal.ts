/** The modal that asks a reviewer why they deny a request. */

import type { ModalView } from '@slack/types';
import { md } from './card-sections.js';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, VIEW_DENY } from './ids.js';
import { MAX_PRIVATE_METADATA } from './limits.js';
import { clip } from './mrkdwn.js';
import type { CardView } from './view-model.js';
import { requesterText, riskMarker } from './wording.js';

/** The longest reason a reviewer may type (the audit log and the callback carry it whole). */
export const MAX_DENY_REASON = 1000;

export function renderDenyModal(view: CardView): ModalView {
  const title = clip(view.title.trim() === '' ? '(untitled request)' : view.title, 'mrkdwn', 300);
  const facts = `${riskMarker(view.risk)} · ${clip(view.action, 'inline', 150)} · requested by ${requesterText(view)}`;
  return {
    type: 'modal',
    callback_id: VIEW_DENY,
    private_metadata: view.id.slice(0, MAX_PRIVATE_METADATA),
    title: { type: 'plain_text', text: 'Deny request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: md(`You are denying *${title}*\n${facts}`) },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        optional: false,
        label: { type: 'plain_text', text: 'Why are you denying it?' },
        hint: {
          type: 'plain_text',
          text: "The reason is posted in the card's thread and sent to the pipeline.",
        },
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION,
          multiline: true,
          min_length: 1,
          max_length: MAX_DENY_REASON,
          placeholder: { type: 'plain_text', text: 'What is wrong, and what would make it acceptable?' },
        },
      },
    ],
  };
}
