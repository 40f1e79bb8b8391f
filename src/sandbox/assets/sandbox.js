// The sandbox page's script: shows what the server streams (already rendered HTML) and turns what a
// person does into calls to the emulated Slack. No framework, no build step, nothing from other hosts.

const select = /** @type {HTMLSelectElement} */ (document.getElementById('acting-as'));
const timeline = /** @type {HTMLElement} */ (document.getElementById('timeline'));
const home = /** @type {HTMLElement} */ (document.getElementById('home'));
const modalRoot = /** @type {HTMLElement} */ (document.getElementById('modal-root'));
const statusLine = /** @type {HTMLElement} */ (document.getElementById('connection'));
const composer = /** @type {HTMLFormElement} */ (document.getElementById('composer'));
const composerInput = /** @type {HTMLInputElement} */ (document.getElementById('composer-input'));
const demoButton = /** @type {HTMLButtonElement} */ (document.getElementById('new-demo'));
const demoMenu = /** @type {HTMLElement} */ (document.getElementById('demo-menu'));
const tabs = /** @type {HTMLButtonElement[]} */ ([...document.querySelectorAll('[role="tab"]')]);

const saved = sessionStorage.getItem('countersign-sandbox-as');
if (saved && [...select.options].some((o) => o.value === saved)) select.value = saved;
let viewer = select.value;
/** @type {EventSource | null} */
let source = null;
let localSeq = 0;

/** @param {string} html */
function fragment(html) {
  const t = document.createElement('template');
  t.innerHTML = html;
  return /** @type {HTMLElement} */ (t.content.firstElementChild);
}

// ---- dates, in the reader's own time zone ----

/** @param {Date} d */
function relativeDay(d) {
  const day = (/** @type {Date} */ x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(d) - day(new Date())) / 86_400_000);
  return diff === 0 ? 'Today' : diff === -1 ? 'Yesterday' : diff === 1 ? 'Tomorrow' : null;
}

/** @param {Date} d @param {string} format */
function formatLocal(d, format) {
  const short = d.toLocaleDateString([], { month: 'short', day: 'numeric', year: 'numeric' });
  const long = d.toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
  const plain = d.toLocaleDateString([], { month: 'long', day: 'numeric', year: 'numeric' });
  const rel = relativeDay(d);
  /** @type {Record<string, string>} */
  const tokens = {
    time: d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    time_secs: d.toLocaleTimeString(),
    date_num: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`,
    date: plain,
    date_short: short,
    date_long: long,
    date_pretty: rel ?? plain,
    date_short_pretty: rel ?? short,
    date_long_pretty: rel ?? long,
  };
  return format.replace(/\{([a-z_]+)\}/g, (whole, name) => tokens[name] ?? whole);
}

/** @param {ParentNode} root */
function localize(root) {
  for (const t of root.querySelectorAll('time[datetime]')) {
    const d = new Date(t.getAttribute('datetime') ?? '');
    if (Number.isNaN(d.getTime())) continue;
    t.textContent = formatLocal(d, t.getAttribute('data-format') ?? '{date_short}');
    t.setAttribute('title', d.toString());
  }
}

// ---- what the server streams ----

/** @param {{id: string, parent: string | null, seq: string, html: string}} item */
function placeItem(item) {
  const node = fragment(item.html);
  node.dataset.seq = item.seq;
  localize(node);
  const existing = document.getElementById(item.id);
  if (existing) {
    // An updated card keeps its thread: only its body is replaced.
    const oldBody = existing.querySelector(':scope > .msg-body');
    const newBody = node.querySelector(':scope > .msg-body');
    if (existing.classList.contains('msg-top') && oldBody && newBody) oldBody.replaceWith(newBody);
    else existing.replaceWith(node);
    return;
  }
  const parent = item.parent === null ? timeline : document.getElementById(item.parent);
  if (!parent) return;
  const before = [...parent.children].find(
    (c) => c instanceof HTMLElement && (c.dataset.seq ?? '') > item.seq,
  );
  parent.insertBefore(node, before ?? null);
  if (item.parent === null) node.scrollIntoView({ block: 'nearest' });
}

/** @param {string} viewId @param {string} html */
function showModal(viewId, html) {
  const current = /** @type {HTMLDialogElement | null} */ (modalRoot.querySelector('dialog'));
  const typed = current && current.dataset.viewId === viewId ? collect(current) : null;
  const dialog = /** @type {HTMLDialogElement} */ (fragment(html));
  if (typed) {
    for (const field of dialog.querySelectorAll('[data-block-id][data-action-id]')) {
      const f = /** @type {HTMLInputElement} */ (field);
      const value = typed[f.dataset.blockId ?? '']?.[f.dataset.actionId ?? ''];
      if (value !== undefined) f.value = value;
    }
  }
  current?.remove();
  modalRoot.append(dialog);
  dialog.showModal();
  localize(dialog);
  const focus = dialog.querySelector('[aria-invalid="true"]') ?? dialog.querySelector('textarea, input');
  /** @type {HTMLElement | null} */ (focus)?.focus();
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    post('/sandbox/api/close', { as: viewer, viewId });
  });
  dialog
    .querySelector('.modal-close')
    ?.addEventListener('click', () => post('/sandbox/api/close', { as: viewer, viewId }));
  dialog.querySelector('form')?.addEventListener('submit', async (e) => {
    e.preventDefault();
    const submit = /** @type {HTMLButtonElement | null} */ (dialog.querySelector('button[type="submit"]'));
    if (submit) submit.disabled = true;
    const res = await post('/sandbox/api/submit', { as: viewer, viewId, values: collect(dialog) });
    if (submit) submit.disabled = false;
    if (!res.ok) localNotice(`The dialog was not sent: ${res.message}`);
  });
}

/** @param {string} viewId */
function closeModal(viewId) {
  const dialog = /** @type {HTMLDialogElement | null} */ (modalRoot.querySelector('dialog'));
  if (!dialog || (viewId && dialog.dataset.viewId !== viewId)) return;
  dialog.close();
  dialog.remove();
  composerInput.focus();
}

/** @param {HTMLElement} dialog */
function collect(dialog) {
  /** @type {Record<string, Record<string, string>>} */
  const values = {};
  for (const field of dialog.querySelectorAll('[data-block-id][data-action-id]')) {
    const f = /** @type {HTMLInputElement} */ (field);
    if (!('value' in f)) continue;
    const block = f.dataset.blockId ?? '';
    values[block] = { ...values[block], [f.dataset.actionId ?? '']: f.value };
  }
  return values;
}

/** @param {{items: any[], home: string, modal: {viewId: string, html: string} | null}} snap */
function reset(snap) {
  timeline.replaceChildren();
  for (const item of snap.items) placeItem(item);
  home.innerHTML = snap.home;
  localize(home);
  const open = modalRoot.querySelector('dialog');
  if (snap.modal) showModal(snap.modal.viewId, snap.modal.html);
  else if (open) closeModal('');
}

/** @param {any} op */
function apply(op) {
  if (op.op === 'item') placeItem(op.item);
  else if (op.op === 'home') {
    home.innerHTML = op.html;
    localize(home);
  } else if (op.op === 'modal') showModal(op.viewId, op.html);
  else if (op.op === 'modal_closed') closeModal(op.viewId);
}

function connect() {
  source?.close();
  statusLine.textContent = 'Connecting…';
  source = new EventSource(`/sandbox/events?as=${encodeURIComponent(viewer)}`);
  source.addEventListener('reset', (e) => reset(JSON.parse(/** @type {MessageEvent} */ (e).data)));
  source.addEventListener('op', (e) => apply(JSON.parse(/** @type {MessageEvent} */ (e).data)));
  source.addEventListener('open', () => {
    statusLine.textContent = 'Live: updates appear as they happen';
  });
  source.addEventListener('error', () => {
    statusLine.textContent = 'Reconnecting… is the sandbox still running?';
  });
}

// ---- what a person does ----

/** @param {string} path @param {unknown} body */
async function post(path, body) {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    return res.ok
      ? { ok: true, ...json }
      : { ok: false, message: json.message ?? json.error ?? `HTTP ${res.status}` };
  } catch {
    return { ok: false, message: 'the sandbox server does not answer; is it still running?' };
  }
}

/** A message from the sandbox page itself (not from the app). @param {string} text */
function localNotice(text) {
  localSeq += 1;
  const node = document.createElement('div');
  node.className = 'local-notice';
  node.setAttribute('role', 'alert');
  // Placed after what is shown now, before anything that arrives later.
  const last = /** @type {HTMLElement | null} */ (timeline.lastElementChild);
  node.dataset.seq = `${last?.dataset.seq ?? ''}~${String(localSeq).padStart(6, '0')}`;
  node.textContent = `Sandbox: ${text}`;
  timeline.append(node);
  node.scrollIntoView({ block: 'nearest' });
}

// A link to a message of this channel (a card's permalink) shows it here rather than in a new tab.
document.addEventListener('click', (e) => {
  const link = /** @type {HTMLElement} */ (e.target)?.closest?.('a[href]');
  if (!(link instanceof HTMLAnchorElement)) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname !== '/sandbox' || !url.hash) return;
  const target = document.getElementById(decodeURIComponent(url.hash.slice(1)));
  if (!target) return;
  e.preventDefault();
  const channelTab = document.getElementById('tab-channel');
  if (channelTab instanceof HTMLButtonElement) selectTab(channelTab);
  target.scrollIntoView({ block: 'start' });
  target.classList.add('highlight');
  setTimeout(() => target.classList.remove('highlight'), 2000);
});

document.addEventListener('click', async (e) => {
  const button = /** @type {HTMLElement} */ (e.target)?.closest?.('button[data-action-id]');
  if (!(button instanceof HTMLButtonElement)) return;
  /** @type {unknown} */
  let place;
  const dialog = /** @type {HTMLElement | null} */ (button.closest('dialog'));
  const article = /** @type {HTMLElement | null} */ (button.closest('article[data-ts]'));
  if (button.closest('#home')) place = { home: true };
  else if (dialog) place = { viewId: dialog.dataset.viewId };
  else if (article) place = { message: { channel: article.dataset.channel, ts: article.dataset.ts } };
  else return;
  button.disabled = true;
  const res = await post('/sandbox/api/click', {
    as: viewer,
    place,
    blockId: button.dataset.blockId,
    actionId: button.dataset.actionId,
  });
  button.disabled = false;
  if (!res.ok) localNotice(`the click did not reach the app: ${res.message}`);
});

function selectTab(/** @type {HTMLButtonElement} */ tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    const panel = document.getElementById(t.getAttribute('aria-controls') ?? '');
    if (panel) panel.hidden = !on;
  }
  if (tab.id === 'tab-home') openHome();
}

async function openHome() {
  const res = await post('/sandbox/api/home', { as: viewer });
  if (!res.ok) localNotice(`the Home tab could not be opened: ${res.message}`);
}

for (const tab of tabs) {
  tab.addEventListener('click', () => selectTab(tab));
  tab.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const next = tabs[(tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    if (next) {
      next.focus();
      selectTab(next);
    }
  });
}

select.addEventListener('change', () => {
  viewer = select.value;
  sessionStorage.setItem('countersign-sandbox-as', viewer);
  connect();
  if (document.getElementById('tab-home')?.getAttribute('aria-selected') === 'true') openHome();
});

composer.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = composerInput.value.trim();
  if (text === '') return;
  if (!text.startsWith('/')) {
    localNotice('this sandbox has no chat; type an /approvals command, e.g. /approvals help');
    return;
  }
  composerInput.value = '';
  const res = await post('/sandbox/api/command', { as: viewer, text });
  if (!res.ok) localNotice(res.message);
});

function toggleDemoMenu(/** @type {boolean} */ open) {
  demoMenu.hidden = !open;
  demoButton.setAttribute('aria-expanded', String(open));
  if (open) /** @type {HTMLElement | null} */ (demoMenu.querySelector('button'))?.focus();
}

demoButton.addEventListener('click', () => toggleDemoMenu(demoMenu.hidden));
demoMenu.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    toggleDemoMenu(false);
    demoButton.focus();
  }
});
for (const option of demoMenu.querySelectorAll('button[data-demo]')) {
  option.addEventListener('click', async () => {
    toggleDemoMenu(false);
    const res = await post('/sandbox/api/demo', { kind: /** @type {HTMLElement} */ (option).dataset.demo });
    if (!res.ok) localNotice(`the demo request was refused: ${res.message}`);
  });
}

connect();
