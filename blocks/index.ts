/** The public API of blocks/: pure renderers from a CardView to Block Kit JSON, and the limit checkers. */

export { type CardMessage, renderCard } from './approval-card.js';
export {
  type CommandReply,
  channelMention,
  type RequestLine,
  requestLine,
  shortDuration,
  timeLeft,
} from './command-format.js';
export {
  COMMAND,
  type HistoryItem,
  historyLine,
  type ListPage,
  type MineModel,
  renderHelp,
  renderList,
  renderMine,
  renderNotice,
  renderShow,
  renderStats,
  renderUsage,
  type ShowModel,
  type StatsWindow,
  USAGE,
} from './command-replies.js';
export { MAX_DENY_REASON, renderDenyModal } from './deny-modal.js';
export { type DiffStat, diffStat, formatDiffStat, fullDiffFile } from './diff.js';
export { HOME_VOTE_BLOCK, type HomeModel, type HomeNotice, renderHome } from './home-view.js';
export { ACTION_APPROVE, ACTION_DENY, DENY_REASON_ACTION, DENY_REASON_BLOCK, VIEW_DENY } from './ids.js';
export * from './limits.js';
export { escapeMrkdwn, escapePlain } from './mrkdwn.js';
export { renderOutcomeReply, renderReminder, renderVoteReply } from './thread-messages.js';
export type { CardCaller, CardRisk, CardStatus, CardView, CardVote, ThreadMessage } from './view-model.js';
