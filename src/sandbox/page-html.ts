/** The `/sandbox` document: a Slack-like workspace for this one app. Its content arrives over server-sent events. */

import type { DemoRequest } from './demo-requests.js';
import type { DemoPerson } from './people.js';
import { attrs, esc } from './render/html.js';

export interface PageModel {
  people: readonly DemoPerson[];
  demos: readonly DemoRequest[];
  channel: { id: string; name: string };
  /** Version tag for asset URLs, so a new build is never served from a stale cache. */
  assetVersion: string;
}

export function pageHtml(model: PageModel): string {
  const people = model.people
    .map(
      (p, i) =>
        `<option${attrs({ value: p.id, selected: i === 0 })}>${esc(`${p.name} — ${p.role}`)}</option>`,
    )
    .join('');
  const demos = model.demos
    .map(
      (d) =>
        `<li><button${attrs({ type: 'button', class: 'demo-option', 'data-demo': d.key })}><span class="demo-label">${esc(d.label)}</span><span class="demo-note">${esc(d.note)}</span></button></li>`,
    )
    .join('');
  const channel = esc(model.channel.name);
  const v = esc(model.assetVersion);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Countersign sandbox</title>
<link rel="icon" href="/sandbox/assets/favicon.svg?v=${v}" type="image/svg+xml">
<link rel="stylesheet" href="/sandbox/assets/sandbox.css?v=${v}">
<script type="module" src="/sandbox/assets/sandbox.js?v=${v}"></script>
</head>
<body>
<a class="skip-link" href="#composer-input">Skip to the command box</a>
<div class="app">
<header class="sidebar">
<div class="workspace">
<p class="workspace-name">Countersign sandbox</p>
<p class="workspace-note">An emulated Slack workspace on this machine. Nothing leaves it.</p>
</div>
<div class="acting">
<label for="acting-as">Acting as</label>
<select id="acting-as" name="acting-as">${people}</select>
</div>
<div class="demo">
<button type="button" id="new-demo" class="bk-button primary demo-toggle" aria-expanded="false" aria-controls="demo-menu">New demo request</button>
<ul id="demo-menu" class="demo-menu" hidden aria-label="Demo requests">${demos}</ul>
</div>
<nav aria-label="Surfaces">
<div role="tablist" aria-label="Countersign in Slack" class="tabs">
<button type="button" role="tab" id="tab-channel" aria-controls="panel-channel" aria-selected="true"># ${channel}</button>
<button type="button" role="tab" id="tab-home" aria-controls="panel-home" aria-selected="false" tabindex="-1">Home</button>
</div>
</nav>
<p class="connection" id="connection" role="status">Connecting…</p>
</header>
<main class="main">
<section id="panel-channel" role="tabpanel" aria-labelledby="tab-channel" class="panel">
<h1 class="channel-title"># ${channel}</h1>
<div id="timeline" class="timeline" role="log" aria-label="Messages in #${channel}" aria-live="polite"></div>
<form id="composer" class="composer" autocomplete="off">
<label for="composer-input" class="visually-hidden">Type an /approvals command in #${channel}</label>
<input id="composer-input" name="command" type="text" placeholder="/approvals help · list · mine · show &lt;id&gt; · stats" enterkeyhint="send" spellcheck="false">
<button type="submit" class="bk-button">Send</button>
</form>
</section>
<section id="panel-home" role="tabpanel" aria-labelledby="tab-home" class="panel" hidden>
<h1 class="channel-title">Countersign · Home</h1>
<div id="home" class="home"></div>
</section>
</main>
</div>
<div id="modal-root"></div>
<noscript><p class="noscript">The sandbox page needs JavaScript to show the live channel.</p></noscript>
</body>
</html>
`;
}
