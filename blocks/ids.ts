/** Identifiers shared by the renderers and the Slack listeners that handle what they render. */

/** `action_id` of the Approve button; the button's `value` is the request id. */
export const ACTION_APPROVE = 'approve';
/** `action_id` of the Deny button; the button's `value` is the request id. */
export const ACTION_DENY = 'deny';
/** `callback_id` of the deny-reason modal; its `private_metadata` is the request id. */
export const VIEW_DENY = 'deny_reason';
/** `block_id` of the reason input in the deny modal. */
export const DENY_REASON_BLOCK = 'reason';
/** `action_id` of the reason input in the deny modal. */
export const DENY_REASON_ACTION = 'reason';
