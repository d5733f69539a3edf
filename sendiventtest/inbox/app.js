// The Sendivent inbox: every notification the fake holds, newest first,
// each message as its channel shows it, live.
//
// Every value shown comes from the application under test and is untrusted.
// The DOM is built from text nodes and attributes this file names; no HTML
// from data is ever parsed here (the page's policy forbids it too: Trusted
// Types). An email's HTML body is a document of its own, in a sandboxed
// frame. The page changes the fake only through its /_fake/ controls.
'use strict';

(() => {
  const PAGE = 50;
  const CHANNELS = {
    email: 'Email', sms: 'SMS', push: 'Push', slack: 'Slack',
    telegram: 'Telegram', whatsapp: 'WhatsApp', discord: 'Discord',
  };
  const FAULTS = {
    503: { status: 503, endpoint: 'send' },
    429: { status: 429, retry_after: '5', endpoint: 'send' },
    drop: { kind: 'drop', endpoint: 'send' },
  };

  const state = {
    epoch: '',
    version: 0,
    before: 0, // 0: the newest page, which takes new notifications live
    history: [], // the cursors of newer pages, for "Newer"
    older: 0,
    items: [], // the notifications shown, newest first
    open: new Set(), // ids whose detail is open
    cards: new Map(), // id -> its article
    stream: null,
    loading: null,
  };

  const $ = (sel) => document.querySelector(sel);
  const enc = encodeURIComponent;

  // el makes an element: opts.cls, .text, .title, .data (data-*), .attrs
  // (names this file chooses), .on (listeners); children are nodes or text.
  function el(tag, opts, ...children) {
    const e = document.createElement(tag);
    const o = opts || {};
    if (o.cls) e.className = o.cls;
    if (o.text !== undefined && o.text !== null) e.textContent = String(o.text);
    if (o.title) e.title = String(o.title);
    for (const [k, v] of Object.entries(o.data || {})) e.dataset[k] = String(v);
    for (const [k, v] of Object.entries(o.attrs || {})) e.setAttribute(k, String(v));
    for (const [k, f] of Object.entries(o.on || {})) e.addEventListener(k, f);
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // token keeps a value fit for a class name.
  const token = (s) => String(s || '').toLowerCase().replace(/[^a-z0-9_-]/g, '');

  function clock(s, ms) {
    if (!s) return '';
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return '';
    const p = (n, w) => String(n).padStart(w || 2, '0');
    const t = p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
    return ms ? t + '.' + p(d.getMilliseconds(), 3) : t;
  }

  // linked is text with its http and https addresses as links; nothing
  // else (a javascript: address stays text).
  function linked(text) {
    const frag = document.createDocumentFragment();
    const s = String(text);
    let last = 0;
    for (const m of s.matchAll(/\bhttps?:\/\/[^\s<>"']+/g)) {
      const u = m[0].replace(/[.,;:!?)\]]+$/, '');
      frag.append(s.slice(last, m.index));
      let href = '';
      try {
        const p = new URL(u);
        if (p.protocol === 'http:' || p.protocol === 'https:') href = p.href;
      } catch (_) { /* not an address */ }
      frag.append(href
        ? el('a', { text: u, attrs: { href, target: '_blank', rel: 'noopener noreferrer' } })
        : u);
      last = m.index + u.length;
    }
    frag.append(s.slice(last));
    return frag;
  }

  function notice(msg) {
    const n = $('#notice');
    n.textContent = msg;
    n.hidden = !msg;
  }

  async function answerError(r) {
    try {
      const b = await r.json();
      return b.error || r.statusText;
    } catch (_) {
      return r.statusText;
    }
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error(r.status + ': ' + (await answerError(r)));
    return r.json();
  }

  // control POSTs to a /_fake/ control endpoint, the page's only way to
  // change the fake.
  async function control(path, body) {
    try {
      const r = await fetch('/_fake/' + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body || {}),
      });
      if (!r.ok) notice('POST /_fake/' + path + ': ' + r.status + ' ' + (await answerError(r)));
      else notice('');
    } catch (e) {
      notice('POST /_fake/' + path + ': ' + e.message);
    }
    refreshFaults();
  }

  function statusBadge(status) {
    return el('span', { cls: 'badge st-' + token(status), text: status, data: { role: 'status' } });
  }

  function initial(name) {
    const c = String(name || '?').trim().charAt(0);
    return c ? c.toUpperCase() : '?';
  }

  function recipientLine(r) {
    const parts = [];
    if (r.name) parts.push(r.name);
    for (const k of ['email', 'phone', 'slack', 'telegram', 'discord']) if (r[k]) parts.push(r[k]);
    if (r.push_tokens) parts.push(r.push_tokens + (r.push_tokens === 1 ? ' device' : ' devices'));
    if (!parts.length && r.external_id) parts.push(r.external_id);
    return parts.join(' · ') || 'no recipient';
  }

  // payloadView shows a send's payload, for a message without a template.
  function payloadView(n) {
    if (n.payload === null && n.payload_bytes > 0) {
      return el('p', { cls: 'payload-note', text: 'A payload of ' + n.payload_bytes + ' bytes: open Details to see it.' });
    }
    const keys = Object.keys(n.payload || {});
    if (!keys.length) return el('p', { cls: 'payload-note', text: 'No template and no payload.' });
    const t = el('table', { cls: 'payload' });
    for (const k of keys) {
      const v = n.payload[k];
      t.append(el('tr', null, el('th', { text: k }),
        el('td', null, typeof v === 'string' ? linked(v) : JSON.stringify(v))));
    }
    return el('div', { cls: 'payload-box' }, el('div', { cls: 'payload-title', text: 'Payload (the event has no template for this channel)' }), t);
  }

  // content is a part's rendered text, or the payload without a template.
  const content = (n, m, text) => (m.rendered ? linked(text || '') : payloadView(n));

  function emailView(n, m) {
    const head = el('dl', { cls: 'email-head' },
      el('dt', { text: 'Subject' }),
      el('dd', { cls: 'subject', text: m.subject || (m.rendered ? '(no subject)' : '(no template)') }),
      el('dt', { text: 'From' }), el('dd', { text: m.from || '—' }),
      el('dt', { text: 'To' }), el('dd', { text: m.to || '—' }));
    const em = (n.overrides && n.overrides.email) || {};
    for (const [label, list] of [['Cc', em.cc], ['Bcc', em.bcc], ['Reply-To', em.reply_to]]) {
      if (list && list.length) head.append(el('dt', { text: label }), el('dd', { text: list.join(', ') }));
    }
    const box = el('div', { cls: 'email' }, head);
    if (m.html) {
      const f = el('iframe', {
        cls: 'email-frame',
        title: 'Email body',
        // No allow-scripts, no allow-same-origin: the body runs nothing
        // and is an origin of its own; its answer's policy says the same.
        attrs: { sandbox: '', referrerpolicy: 'no-referrer', loading: 'lazy' },
      });
      f.addEventListener('load', () => { f.dataset.loaded = 'yes'; });
      f.src = '/_inbox/notifications/' + enc(n.id) + '/messages/' + enc(m.id) + '/html';
      box.append(el('div', { cls: 'email-body' }, f));
      if (m.text) {
        box.append(el('details', { cls: 'email-alt' }, el('summary', { text: 'Text version' }),
          el('pre', { cls: 'email-text' }, linked(m.text))));
      }
    } else if (m.text) {
      box.append(el('pre', { cls: 'email-text' }, linked(m.text)));
    } else {
      box.append(m.rendered ? el('p', { cls: 'payload-note', text: '(empty body)' }) : payloadView(n));
    }
    return box;
  }

  function smsView(n, m) {
    return el('div', { cls: 'phone' },
      el('div', { cls: 'phone-bar' }, el('span', { cls: 'avatar', text: initial(m.from) }),
        el('div', null, el('div', { cls: 'phone-from', text: m.from || 'SMS' }),
          el('div', { cls: 'phone-to', text: 'to ' + (m.to || '—') }))),
      el('div', { cls: 'thread' },
        el('div', { cls: 'bubble' }, content(n, m, m.text)),
        el('div', { cls: 'bubble-time', text: clock(m.sent_at || m.queued_at) })));
  }

  function pushView(n, m) {
    return el('div', { cls: 'push' },
      el('div', { cls: 'push-head' }, el('span', { cls: 'app-icon', text: initial(m.from) }),
        el('span', { cls: 'app-name', text: m.from || 'App' }),
        el('span', { cls: 'push-time', text: clock(m.sent_at || m.queued_at) })),
      m.rendered ? el('div', { cls: 'push-title', text: m.title || '' }) : null,
      el('div', { cls: 'push-body' }, content(n, m, m.body)),
      el('div', { cls: 'push-to', text: 'to ' + (m.to || '—') }));
  }

  function chatView(n, m) {
    const ch = token(m.channel);
    const tag = ch === 'discord' ? 'BOT' : ch === 'slack' ? 'APP' : '';
    return el('div', { cls: 'chat chat-' + ch },
      el('div', { cls: 'chat-head', text: (CHANNELS[m.channel] || m.channel) + ' · ' + (m.to || '—') }),
      el('div', { cls: 'chat-row' },
        el('span', { cls: 'avatar', text: initial(m.from) }),
        el('div', { cls: 'chat-main' },
          el('div', { cls: 'chat-meta' }, el('span', { cls: 'chat-name', text: m.from || 'App' }),
            tag ? el('span', { cls: 'tag', text: tag }) : null,
            el('span', { cls: 'chat-time', text: clock(m.sent_at || m.queued_at) })),
          el('div', { cls: 'chat-text' }, content(n, m, m.text)),
          el('div', { cls: 'ticks', text: m.status === 'delivered' ? '✓✓' : m.status === 'sent' ? '✓' : '' }))));
  }

  const VIEWS = { email: emailView, sms: smsView, push: pushView };

  function actionButton(n, action, label) {
    return el('button', {
      cls: 'act act-' + action, text: label, data: { action },
      attrs: { type: 'button' },
      on: { click: () => act(n.id, action) },
    });
  }

  function act(id, action) {
    const path = 'notifications/' + enc(id) + '/';
    switch (action) {
      case 'fail': return control(path + 'fail', { error: 'failed from the inbox' });
      case 'suppress': return control(path + 'fail', { status: 'suppressed', error: 'suppressed from the inbox' });
      default: return control(path + action, {});
    }
  }

  function messageView(n, m) {
    const box = el('div', {
      cls: 'message ch-' + token(m.channel),
      data: { messageId: m.id, channel: m.channel, status: m.status },
    });
    box.append(el('div', { cls: 'message-head' },
      el('span', { cls: 'channel', text: CHANNELS[m.channel] || m.channel }),
      statusBadge(m.status),
      m.language ? el('span', { cls: 'lang', text: m.language }) : null,
      m.error ? el('span', { cls: 'error', text: m.error }) : null));
    box.append((VIEWS[m.channel] || chatView)(n, m));
    for (const p of m.problems || []) box.append(el('p', { cls: 'problem', text: p }));
    if (m.current) {
      const bar = el('div', { cls: 'message-actions' });
      if (n.actions.includes('fail')) bar.append(actionButton(n, 'fail', 'Fail'));
      if (n.actions.includes('suppress')) bar.append(actionButton(n, 'suppress', 'Suppress'));
      box.append(bar);
    }
    return box;
  }

  function card(n) {
    const a = el('article', {
      cls: 'notif',
      data: { id: n.id, status: n.status, seq: n.seq, rev: n.rev },
    });
    const name = el('span', { cls: 'event' }, n.title || n.event);
    if (n.title) name.append(el('code', { cls: 'event-id', text: n.event }));
    const toggle = el('button', {
      cls: 'details-toggle', text: state.open.has(n.id) ? 'Hide details' : 'Details',
      data: { action: 'details' }, attrs: { type: 'button', 'aria-expanded': state.open.has(n.id) },
      on: { click: () => toggleDetail(n.id) },
    });
    a.append(el('header', { cls: 'notif-head' },
      name, statusBadge(n.status),
      el('span', { cls: 'to', text: 'to ' + recipientLine(n.recipient) }),
      el('time', { cls: 'when', text: clock(n.created_at), title: n.created_at }),
      toggle));
    const msgs = el('div', { cls: 'messages' });
    for (const m of n.messages) msgs.append(messageView(n, m));
    if (!n.messages.length) msgs.append(el('p', { cls: 'waiting', text: 'No message yet: ' + n.status + '.' }));
    if (n.pending && n.pending.length) msgs.append(el('p', { cls: 'pending', text: 'Then: ' + n.pending.map((c) => CHANNELS[c] || c).join(', ') }));
    a.append(msgs);
    const acts = n.actions.filter((x) => x === 'advance' || x === 'deliver' || x === 'complete');
    if (acts.length) {
      const bar = el('div', { cls: 'notif-actions' });
      for (const x of acts) bar.append(actionButton(n, x, x.charAt(0).toUpperCase() + x.slice(1)));
      a.append(bar);
    }
    const detail = el('section', { cls: 'detail' });
    detail.hidden = !state.open.has(n.id);
    a.append(detail);
    return a;
  }

  function toggleDetail(id) {
    if (state.open.has(id)) state.open.delete(id);
    else state.open.add(id);
    const c = state.cards.get(id);
    if (!c) return;
    const open = state.open.has(id);
    const b = c.querySelector('.details-toggle');
    b.textContent = open ? 'Hide details' : 'Details';
    b.setAttribute('aria-expanded', String(open));
    c.querySelector('.detail').hidden = !open;
    if (open) loadDetail(id);
  }

  async function loadDetail(id) {
    let d;
    try {
      d = await getJSON('/_inbox/notifications/' + enc(id));
    } catch (e) {
      d = null;
      const c = state.cards.get(id);
      if (c) c.querySelector('.detail').replaceChildren(el('p', { cls: 'problem', text: 'Details: ' + e.message }));
      return;
    }
    const c = state.cards.get(id);
    if (!c) return;
    c.querySelector('.detail').replaceChildren(timelineView(d), requestView(d), deliveriesView(d), payloadDetail(d));
  }

  function timelineView(d) {
    const ol = el('ol', { cls: 'timeline' });
    for (const s of d.timeline) {
      const what = s.message_id ? (CHANNELS[s.channel] || s.channel) + ' message' : 'notification';
      ol.append(el('li', { data: { status: s.status } },
        el('time', { text: clock(s.time, true), title: s.time }), ' ', what, ' ', statusBadge(s.status)));
    }
    return el('div', { cls: 'detail-part' }, el('h3', { text: 'Timeline' }), ol);
  }

  function pretty(v) {
    try {
      return JSON.stringify(v, null, 2);
    } catch (_) {
      return String(v);
    }
  }

  function requestView(d) {
    const part = el('div', { cls: 'detail-part' }, el('h3', { text: 'Request' }));
    const r = d.request;
    if (!r) {
      part.append(el('p', { cls: 'payload-note', text: 'No longer kept: the fake keeps its newest requests only.' }));
      return part;
    }
    part.append(el('p', { cls: 'req-line' }, el('code', { text: r.method + ' ' + r.path }), ' → ', el('strong', { text: r.status })));
    const dl = el('dl', { cls: 'kv' });
    const row = (k, v) => { if (v) dl.append(el('dt', { text: k }), el('dd', { text: v })); };
    row('Request id', r.request_id);
    row('Idempotency key', r.idempotency_key);
    row('Time', r.time);
    row('Replayed', r.replayed ? 'yes' : '');
    row('Fault', r.fault);
    part.append(dl);
    const hs = el('dl', { cls: 'kv headers' });
    for (const [k, vs] of Object.entries(r.headers || {})) hs.append(el('dt', { text: k }), el('dd', { text: vs.join(', ') }));
    part.append(el('details', null, el('summary', { text: 'Headers (the Authorization header is never kept here)' }), hs));
    part.append(el('pre', { cls: 'json' }, r.body === undefined ? '(no body kept)' : pretty(r.body)));
    return part;
  }

  function deliveriesView(d) {
    const part = el('div', { cls: 'detail-part' }, el('h3', { text: 'Webhook deliveries' }));
    if (!d.deliveries.length) {
      part.append(el('p', { cls: 'payload-note', text: 'None: no webhook endpoint, or none yet.' }));
      return part;
    }
    const t = el('table', { cls: 'deliveries' }, el('tr', null,
      el('th', { text: 'Time' }), el('th', { text: 'Event' }), el('th', { text: 'Attempt' }),
      el('th', { text: 'Answer' }), el('th', { text: 'Endpoint' })));
    for (const x of d.deliveries) {
      t.append(el('tr', { data: { status: x.status } },
        el('td', { text: clock(x.time, true) }), el('td', { text: x.type }), el('td', { text: x.attempt }),
        el('td', { cls: x.status >= 200 && x.status < 300 ? 'ok' : 'bad', text: x.status ? String(x.status) : x.error || 'no answer' }),
        el('td', { text: x.url })));
    }
    part.append(t);
    return part;
  }

  function payloadDetail(d) {
    return el('div', { cls: 'detail-part' }, el('h3', { text: 'Payload' }), el('pre', { cls: 'json' }, pretty(d.payload || {})));
  }

  function renderCounts(u) {
    $('#counts').textContent = u.held + ' held · ' + u.created + ' sent';
  }

  // render brings the list in line with state.items, keeping the cards
  // (and their email frames) of the notifications that did not change.
  function render() {
    const list = $('#list');
    const want = new Set(state.items.map((n) => n.id));
    for (const [id, c] of state.cards) {
      if (!want.has(id)) {
        c.remove();
        state.cards.delete(id);
      }
    }
    let prev = null;
    for (const n of state.items) {
      let c = state.cards.get(n.id);
      if (c && Number(c.dataset.rev) !== n.rev) {
        const fresh = card(n);
        fresh.querySelector('.detail').replaceWith(c.querySelector('.detail'));
        c.replaceWith(fresh);
        c = fresh;
        state.cards.set(n.id, c);
        if (state.open.has(n.id)) loadDetail(n.id);
      }
      if (!c) {
        c = card(n);
        state.cards.set(n.id, c);
        if (state.open.has(n.id)) loadDetail(n.id);
      }
      if ((prev ? prev.nextElementSibling : list.firstElementChild) !== c) {
        if (prev) prev.after(c);
        else list.prepend(c);
      }
      prev = c;
    }
    $('#empty').hidden = state.items.length > 0 || state.before !== 0;
    $('#newer').disabled = state.before === 0;
    $('#older').disabled = !state.older;
    $('#pageinfo').textContent = state.before === 0 ? 'newest ' + PAGE + ', live' : 'older page';
  }

  async function load() {
    const url = '/_inbox/notifications?limit=' + PAGE + (state.before ? '&before=' + state.before : '');
    let page;
    try {
      page = await getJSON(url);
    } catch (e) {
      notice('Loading the notifications: ' + e.message);
      return;
    }
    if (page.epoch !== state.epoch && state.epoch && state.before) {
      state.before = 0; // the fake was reset or restarted: back to the newest
      state.history = [];
      return load();
    }
    state.epoch = page.epoch;
    state.version = Math.max(state.version, page.version);
    state.items = page.notifications;
    state.older = page.older;
    renderCounts(page);
    render();
    if (!state.stream) connect();
  }

  function apply(u) {
    renderCounts(u);
    if (u.resync || u.epoch !== state.epoch) {
      if (u.epoch !== state.epoch) {
        state.before = 0; // the fake was reset or restarted: back to the newest
        state.history = [];
      }
      state.epoch = u.epoch;
      state.version = u.version;
      load();
      return;
    }
    state.version = Math.max(state.version, u.version);
    for (const n of u.notifications.slice().reverse()) { // oldest first, so the newest end on top
      const i = state.items.findIndex((x) => x.id === n.id);
      if (i >= 0) {
        if (state.items[i].rev < n.rev) state.items[i] = n;
      } else if (state.before === 0 && (!state.items.length || n.seq > state.items[0].seq)) {
        state.items.unshift(n);
      }
    }
    state.items = state.items.filter((n) => n.seq >= u.oldest);
    if (state.before === 0 && state.items.length > PAGE) state.items.length = PAGE;
    const last = state.items[state.items.length - 1];
    state.older = last && last.seq > u.oldest ? last.seq : 0;
    render();
    refreshFaults();
  }

  function connect() {
    const es = new EventSource('/_inbox/stream?epoch=' + enc(state.epoch) + '&since=' + state.version);
    es.addEventListener('update', (ev) => apply(JSON.parse(ev.data)));
    const live = $('#live');
    es.onopen = () => { live.className = 'live on'; live.textContent = 'live'; };
    es.onerror = () => { live.className = 'live off'; live.textContent = 'reconnecting…'; };
    state.stream = es;
  }

  async function refreshFaults() {
    let f;
    try {
      f = await getJSON('/_fake/faults');
    } catch (_) {
      return;
    }
    const box = $('#faults');
    box.replaceChildren();
    for (const x of f.faults) {
      const what = x.kind === 'status' ? String(x.status) + (x.retry_after ? ' (Retry-After ' + x.retry_after + ')' : '') : x.kind;
      box.append(el('span', { cls: 'fault', text: 'queued: ' + what + ' on ' + (x.endpoint || 'any request') + ' ×' + x.count }));
    }
  }

  function start() {
    for (const b of document.querySelectorAll('button[data-fault]')) {
      b.addEventListener('click', () => control('faults', FAULTS[b.dataset.fault]));
    }
    $('#advance-all').addEventListener('click', () => control('advance', {}));
    $('#reset').addEventListener('click', () => control('reset', {}));
    $('#older').addEventListener('click', () => {
      state.history.push(state.before);
      state.before = state.older;
      load();
    });
    $('#newer').addEventListener('click', () => {
      state.before = state.history.pop() || 0;
      load();
    });
    load();
    refreshFaults();
  }

  start();
})();
