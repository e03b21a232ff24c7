// mentiond console: plain JavaScript, no framework, no build step.
// Post text and author data are attacker-controlled: every value reaches the DOM
// through textContent or a checked attribute, never innerHTML.
'use strict';

(() => {
  // Errors, CSP violations and console.error/console.warn calls are collected so a
  // test (or a curious operator) can read them from the page: Firefox's WebDriver has
  // no browser log to read them from.
  window.__consoleErrors = [];
  for (const level of ['error', 'warn']) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
      window.__consoleErrors.push(level + ' ' + args.map(String).join(' '));
      original(...args);
    };
  }
  window.addEventListener('error', (e) => window.__consoleErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => window.__consoleErrors.push(String(e.reason)));
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__consoleErrors.push('csp ' + e.violatedDirective + ' ' + e.blockedURI));

  const readJson = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  };
  const I18N = readJson('i18n');
  const BOOT = readJson('boot');
  const t = (key) => I18N[key] || key;
  const LANG = BOOT.lang || 'en';
  let csrf = BOOT.csrf || '';

  // ---------- small DOM helpers ----------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const isHttpUrl = (value) => {
    try {
      const url = new URL(value, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch (_) {
      return false;
    }
  };
  const fold = (s) => String(s || '').toLocaleLowerCase('tr').normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const number = (n) => Number(n || 0).toLocaleString(LANG === 'tr' ? 'tr-TR' : 'en-GB');

  function duration(seconds) {
    const s = Math.max(0, Math.floor(Math.abs(seconds)));
    if (s < 60) return s + ' ' + t('time.s');
    if (s < 3600) return Math.floor(s / 60) + ' ' + t('time.m');
    if (s < 86400) return Math.floor(s / 3600) + ' ' + t('time.h') + ' ' + Math.floor((s % 3600) / 60) + ' ' + t('time.m');
    return Math.floor(s / 86400) + ' ' + t('time.d');
  }

  // ---------- server calls ----------
  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      location.href = '/login';
      throw new Error('signed out');
    }
    if (!response.ok) throw new Error(method + ' ' + path + ': ' + response.status);
    const type = response.headers.get('Content-Type') || '';
    return type.includes('json') ? response.json() : null;
  }

  function flash(message) {
    const status = document.getElementById('status');
    if (status) status.textContent = message;
  }

  // ---------- cards ----------
  const ICONS = BOOT.icons || {};
  function iconFor(card) {
    const p = String(card.platform || card.source || '').toLowerCase();
    const name = ({
      x: 'x', twitter: 'x', mastodon: 'mastodon', bluesky: 'bluesky', reddit: 'reddit',
      hackernews: 'hackernews', hn: 'hackernews', feed: 'feed', rss: 'feed', atom: 'feed',
      intake: 'intake', email: 'intake', 'e-mail': 'intake',
    })[p] || 'generic';
    return ICONS[name] || ICONS.generic;
  }

  // The post text as text nodes, with each matched span in a <mark> whose title
  // explains the match. Offsets are UTF-16 code units, like JavaScript strings.
  function highlighted(text, matches) {
    const frag = document.createDocumentFragment();
    const spans = (matches || [])
      .filter((m) => Number.isInteger(m.start) && Number.isInteger(m.end) && m.start < m.end && m.end <= text.length)
      .sort((a, b) => a.start - b.start);
    let at = 0;
    for (const m of spans) {
      if (m.start < at) continue;
      frag.append(document.createTextNode(text.slice(at, m.start)));
      const title = t('card.match') + ': ' + m.term + ' · ' + t('card.variant') + ': ' + m.variant + ' · ' + t('card.kind') + ': ' + m.kind;
      frag.append(el('mark', { title, text: text.slice(m.start, m.end) }));
      at = m.end;
    }
    frag.append(document.createTextNode(text.slice(at)));
    return frag;
  }

  const SENTIMENT = () => ({
    negative: t('sentiment.negative'),
    neutral: t('sentiment.neutral'),
    positive: t('sentiment.positive'),
  });

  const CLIP_AT = 280;

  function renderCard(card) {
    const author = card.author || {};
    const node = el('article', { class: 'card', 'data-id': card.id, tabindex: '-1' });
    node.card = card;
    const notRelevant = Array.isArray(card.not_relevant_by) ? card.not_relevant_by : [];
    if (card.acked_at) node.classList.add('acked');
    if (notRelevant.length) node.classList.add('not-relevant');

    const head = el('div', { class: 'card-head' },
      el('img', { class: 'icon', src: iconFor(card), alt: String(card.platform || card.source || ''), title: String(card.source || '') }),
      el('span', { class: 'author-name', dir: 'auto', text: author.name || author.handle || '' }),
      author.handle ? el('span', { class: 'handle', dir: 'auto', text: '@' + author.handle }) : null,
      el('span', { class: 'followers', text: number(author.followers) + ' ' + t('card.followers') }),
      el('button', {
        class: 'earlier', type: 'button', title: t('author.hits'),
        onclick: () => openAuthor(card.source, author.key || author.handle || author.name),
        text: number(author.earlier_hits) + ' ' + t('card.earlier_hits'),
      }));
    node.append(head);

    const text = String(card.text || '');
    const body = el('div', { class: 'card-text user-text', dir: 'auto' }, highlighted(text, card.matches));
    node.append(body);
    if (text.length > CLIP_AT) {
      body.classList.add('clipped');
      const more = el('button', { class: 'more', type: 'button', text: t('card.more') });
      more.addEventListener('click', () => {
        const clipped = body.classList.toggle('clipped');
        more.textContent = clipped ? t('card.more') : t('card.less');
      });
      node.append(more);
    }

    const chips = el('div', { class: 'chips' });
    for (const label of new Set([card.brand, card.topic, card.team])) {
      if (label) chips.append(el('span', { class: 'chip', dir: 'auto', text: label }));
    }
    if (card.competitor) chips.append(el('span', { class: 'chip', text: t('card.competitor') }));
    if (card.sentiment && card.sentiment.label) {
      const label = card.sentiment.label;
      chips.append(el('span', { class: 'chip ' + label, text: SENTIMENT()[label] || label }));
    }
    if (card.priority !== undefined && card.priority !== null) {
      chips.append(el('span', { class: 'chip priority', text: t('card.priority') + ' ' + card.priority }));
    }
    if (card.escalated_at) chips.append(el('span', { class: 'chip escalated', text: t('card.escalated') }));
    const stamp = card.posted_at || card.stored_at;
    if (stamp) chips.append(el('span', { class: 'age', 'data-at': stamp, title: new Date(stamp).toLocaleString(LANG) }));
    if (card.sla_due_at) {
      chips.append(el('span', { class: 'chip sla', 'data-due': card.sla_due_at, 'data-from': card.stored_at || '', 'data-done': card.acked_at || notRelevant.length ? '1' : '' }));
    }
    node.append(chips);

    const who = el('div', { class: 'who' });
    if (card.taken_by) who.append(t('card.taken_by') + ' ', el('span', { dir: 'auto', class: 'taken-by', text: card.taken_by }), ' ');
    if (card.acked_by) {
      who.append(t('card.acked_by') + ' ', el('span', { dir: 'auto', class: 'acked-by', text: card.acked_by }));
      if (card.first_response_secs !== undefined && card.first_response_secs !== null) who.append(' (' + duration(card.first_response_secs) + ')');
      who.append(' ');
    }
    if (notRelevant.length) who.append(t('card.not_relevant_by') + ' ', el('span', { dir: 'auto', text: notRelevant.join(', ') }));
    if (who.childNodes.length) node.append(who);

    const actions = el('div', { class: 'actions' },
      el('button', { type: 'button', 'data-action': 'ack', disabled: !!card.acked_at, onclick: () => act('ack', node), text: t('action.ack') }),
      card.taken_by && card.taken_by === BOOT.user
        ? el('button', { type: 'button', 'data-action': 'release', onclick: () => act('release', node), text: t('action.release') })
        : el('button', { type: 'button', 'data-action': 'take', onclick: () => act('take', node), text: t('action.take') }),
      el('button', { type: 'button', 'data-action': 'not-relevant', disabled: notRelevant.includes(BOOT.user), onclick: () => act('not-relevant', node), text: t('action.not_relevant') }),
      isHttpUrl(card.url)
        ? el('a', { href: new URL(card.url, location.href).href, target: '_blank', rel: 'noopener noreferrer', text: t('card.open_post') })
        : null);
    node.append(actions);
    tickCard(node, Date.now());
    return node;
  }

  // Age and SLA countdown, refreshed every second for every card on the page.
  function tickCard(node, now) {
    const age = node.querySelector('.age');
    if (age) age.textContent = duration((now - Date.parse(age.dataset.at)) / 1000) + ' ' + t('time.ago');
    const sla = node.querySelector('.sla');
    if (!sla) return;
    const due = Date.parse(sla.dataset.due);
    const from = Date.parse(sla.dataset.from) || due - 3600 * 1000;
    const left = (due - now) / 1000;
    sla.classList.remove('ok', 'warn', 'breached');
    if (sla.dataset.done) {
      sla.textContent = t('card.sla_left') + ' ✓';
      sla.classList.add('ok');
    } else if (left <= 0) {
      sla.textContent = t('card.sla_breached') + ' ' + duration(-left);
      sla.classList.add('breached');
    } else {
      sla.textContent = t('card.sla_left') + ' ' + duration(left) + ' ' + t('time.left');
      sla.classList.add(left * 1000 <= Math.max(0, due - from) / 4 ? 'warn' : 'ok');
    }
  }
  setInterval(() => {
    const now = Date.now();
    for (const node of document.querySelectorAll('.card')) tickCard(node, now);
  }, 1000);

  // Replace every rendered copy of a card (all columns, side panel) with a fresh one.
  function replaceCard(card) {
    for (const old of document.querySelectorAll('.card[data-id="' + CSS.escape(String(card.id)) + '"]')) {
      const fresh = renderCard(card);
      for (const cls of ['selected', 'marked', 'is-new']) {
        if (old.classList.contains(cls)) fresh.classList.add(cls);
      }
      fresh.style.animation = 'none';
      old.replaceWith(fresh);
    }
  }

  async function act(action, node) {
    const card = node.card;
    try {
      const answer = await api('POST', '/console/api/hits/' + encodeURIComponent(card.id) + '/' + action);
      if (answer && answer.hit) replaceCard(answer.hit);
      flash('');
    } catch (err) {
      flash(t('action.failed') + ': ' + err.message);
    }
  }

  // ---------- columns ----------
  let columns = [];
  const columnViews = new Map(); // column id -> view

  function matchesColumn(spec, card) {
    const f = spec.filter || {};
    switch (spec.kind) {
      case 'brand': if (card.brand !== spec.key) return false; break;
      case 'topic': if (card.topic !== spec.key) return false; break;
      case 'team': if (card.team !== spec.key) return false; break;
      case 'open': if (card.status !== 'open') return false; break;
      case 'escalated': if (card.status !== 'escalated') return false; break;
      case 'competitors': if (!card.competitor) return false; break;
      case 'search': if (!hasWords(card.text, spec.key)) return false; break;
      default: return false;
    }
    if (f.source && card.source !== f.source) return false;
    if (f.sentiment && (!card.sentiment || card.sentiment.label !== f.sentiment)) return false;
    if (f.lang && card.lang !== f.lang) return false;
    if (f.min_followers && Number((card.author || {}).followers || 0) < Number(f.min_followers)) return false;
    if (f.text && !hasWords(card.text, f.text)) return false;
    return true;
  }

  // The server's full-text search, approximated for live cards: every word of
  // `words` occurs in the text, folded like the matcher folds (case, accents).
  function hasWords(text, words) {
    const haystack = fold(text);
    return fold(words).split(/\s+/).filter(Boolean).every((w) => haystack.includes(w));
  }

  const KIND_LABELS = () => ({
    brand: t('kind.brand'), topic: t('kind.topic'), team: t('kind.team'), open: t('kind.open'),
    escalated: t('kind.escalated'), competitors: t('kind.competitors'), search: t('kind.search'),
  });

  function columnTitle(spec) {
    return spec.title || spec.key || KIND_LABELS()[spec.kind] || spec.kind;
  }

  class ColumnView {
    constructor(spec) {
      this.spec = spec;
      this.cards = new Map();
      this.before = null;
      this.done = false;
      this.loading = false;
      this.unread = 0;
      this.pill = el('button', { class: 'unread', type: 'button', hidden: true, onclick: () => this.markRead(true) });
      this.body = el('div', { class: 'column-body' });
      this.foot = el('div', { class: 'column-foot', text: t('column.loading') });
      const scope = [KIND_LABELS()[spec.kind], spec.key].filter(Boolean).join(': ');
      this.node = el('section', { class: 'column', 'data-column': spec.id, 'data-kind': spec.kind },
        el('header', { class: 'column-head' },
          el('div', {},
            el('h2', { dir: 'auto', text: columnTitle(spec) }),
            el('div', { class: 'scope', dir: 'auto', text: scope })),
          this.pill,
          el('button', { type: 'button', title: t('column.left'), 'data-move': '-1', onclick: () => moveColumn(spec.id, -1), text: '◀' }),
          el('button', { type: 'button', title: t('column.right'), 'data-move': '1', onclick: () => moveColumn(spec.id, 1), text: '▶' }),
          el('button', { type: 'button', title: t('column.edit'), onclick: () => editColumn(spec), text: '⚙' }),
          el('button', { type: 'button', title: t('column.remove'), 'data-remove': '1', onclick: () => removeColumn(spec.id), text: '✕' })),
        this.body,
        this.foot);
      this.node.view = this;
      this.body.addEventListener('scroll', () => {
        if (this.body.scrollTop < 20) this.markRead(false);
        if (this.body.scrollTop + this.body.clientHeight >= this.body.scrollHeight - 120) this.loadOlder();
      });
      this.body.addEventListener('click', (e) => {
        const card = e.target.closest('.card');
        if (card) select(card);
      });
    }

    async loadOlder() {
      if (this.loading || this.done) return;
      this.loading = true;
      const params = new URLSearchParams({ column: this.spec.id, limit: '30' });
      if (this.before) params.set('before', this.before);
      try {
        const page = await api('GET', '/console/api/hits?' + params);
        for (const card of page.hits || []) this.append(card);
        this.before = page.next_before || null;
        this.done = !page.next_before;
        this.foot.textContent = this.cards.size === 0 ? t('column.empty') : (this.done ? t('column.end') : t('column.older'));
      } catch (err) {
        this.foot.textContent = t('action.failed') + ': ' + err.message;
      } finally {
        this.loading = false;
      }
    }

    append(card) {
      if (this.cards.has(String(card.id))) return;
      const node = renderCard(card);
      node.style.animation = 'none';
      this.cards.set(String(card.id), node);
      this.body.append(node);
    }

    // A card from the live feed: new ones go on top (in id order), known ones change
    // in place, so a resumed stream never shows a card twice.
    receive(card) {
      const id = String(card.id);
      const known = this.cards.get(id);
      if (known) {
        if (known.isConnected) replaceCard(card);
        this.cards.set(id, this.body.querySelector('.card[data-id="' + CSS.escape(id) + '"]') || known);
        return;
      }
      if (!matchesColumn(this.spec, card)) return;
      const node = renderCard(card);
      node.classList.add('is-new');
      this.cards.set(id, node);
      let after = null;
      for (const other of this.body.children) {
        if (Number(other.dataset.id) < Number(card.id)) { after = other; break; }
      }
      this.body.insertBefore(node, after);
      this.unread += 1;
      this.showUnread();
      if (this.foot.textContent === t('column.empty')) this.foot.textContent = t('column.end');
    }

    markRead(scroll) {
      this.unread = 0;
      for (const node of this.body.querySelectorAll('.card.is-new')) node.classList.remove('is-new');
      this.showUnread();
      if (scroll) this.body.scrollTo({ top: 0 });
    }

    showUnread() {
      this.pill.hidden = this.unread === 0;
      this.pill.textContent = this.unread + ' ' + t('column.new');
      const total = [...columnViews.values()].reduce((sum, v) => sum + v.unread, 0);
      document.title = (total ? '(' + total + ') ' : '') + t('app.title');
    }
  }

  function renderDeck() {
    const deck = document.getElementById('deck');
    if (!deck) return;
    const old = columnViews;
    const views = new Map();
    deck.replaceChildren();
    for (const spec of columns) {
      const keep = old.get(String(spec.id));
      const view = keep && JSON.stringify(keep.spec) === JSON.stringify(spec) ? keep : new ColumnView(spec);
      views.set(String(spec.id), view);
      deck.append(view.node);
      if (view !== keep) view.loadOlder();
    }
    deck.append(el('button', { class: 'add-column', type: 'button', id: 'add-column', onclick: () => editColumn(null), text: '+ ' + t('column.add') }));
    columnViews.clear();
    for (const [id, view] of views) columnViews.set(id, view);
  }

  async function saveColumns(next) {
    try {
      const saved = await api('PUT', '/console/api/columns', next.map((c) => ({
        id: c.id, kind: c.kind, key: c.key || null, title: c.title, filter: c.filter || {},
      })));
      columns = Array.isArray(saved) ? saved : next;
    } catch (err) {
      flash(t('action.failed') + ': ' + err.message);
      return;
    }
    renderDeck();
  }

  function moveColumn(id, step) {
    const at = columns.findIndex((c) => String(c.id) === String(id));
    const to = at + step;
    if (at < 0 || to < 0 || to >= columns.length) return;
    const next = columns.slice();
    [next[at], next[to]] = [next[to], next[at]];
    saveColumns(next);
  }

  function removeColumn(id) {
    saveColumns(columns.filter((c) => String(c.id) !== String(id)));
  }

  // One dialog adds a column or edits one (kind, key, title and the filter).
  function editColumn(spec) {
    const dialog = document.getElementById('column-dialog');
    const form = dialog.querySelector('form');
    const kinds = KIND_LABELS();
    const kind = form.elements.kind;
    kind.replaceChildren(...Object.entries(kinds).map(([value, label]) => el('option', { value, text: label })));
    const f = (spec && spec.filter) || {};
    kind.value = spec ? spec.kind : 'brand';
    form.elements.key.value = spec ? spec.key || '' : '';
    form.elements.title.value = spec ? spec.title || '' : '';
    form.elements.source.value = f.source || '';
    form.elements.sentiment.value = f.sentiment || '';
    form.elements.lang.value = f.lang || '';
    form.elements.min_followers.value = f.min_followers || '';
    form.elements.text.value = f.text || '';
    form.onsubmit = (e) => {
      e.preventDefault();
      const filter = {};
      for (const name of ['source', 'sentiment', 'lang', 'text']) {
        const value = form.elements[name].value.trim();
        if (value) filter[name] = value;
      }
      const min = parseInt(form.elements.min_followers.value, 10);
      if (min > 0) filter.min_followers = min;
      const keyed = ['brand', 'topic', 'team', 'search'].includes(kind.value);
      const key = keyed ? form.elements.key.value.trim() : null;
      let id = spec ? spec.id : kind.value + (key ? ':' + key : '');
      for (let n = 2; !spec && columns.some((c) => c.id === id); n += 1) id = kind.value + (key ? ':' + key : '') + '#' + n;
      const next = {
        id,
        kind: kind.value,
        key,
        title: form.elements.title.value.trim() || key || kinds[kind.value],
        filter,
      };
      dialog.close();
      saveColumns(spec ? columns.map((c) => (c === spec ? next : c)) : columns.concat([next]));
    };
    dialog.querySelector('[data-cancel]').onclick = () => dialog.close();
    dialog.showModal();
  }

  // ---------- live feed ----------
  let stream = null;
  let lastEventId = BOOT.after || null;
  function connect() {
    const url = '/console/events' + (lastEventId ? '?last_event_id=' + encodeURIComponent(lastEventId) : '');
    stream = new EventSource(url);
    const onCard = (e) => {
      if (e.lastEventId) lastEventId = e.lastEventId;
      const card = JSON.parse(e.data);
      for (const view of columnViews.values()) view.receive(card);
      if (e.type === 'update') replaceCard(card);
      if (listReceive) listReceive(card, e.type);
    };
    stream.addEventListener('hit', onCard);
    stream.addEventListener('update', onCard);
    stream.addEventListener('reset', () => location.reload());
    stream.addEventListener('open', () => flash(''));
    stream.addEventListener('error', () => {
      flash(t('stream.offline'));
      // The browser retries by itself unless it gave up (a non-200 answer, e.g.
      // while the daemon restarts behind a proxy); then start a new stream that
      // resumes from the last event seen.
      if (stream.readyState === EventSource.CLOSED) {
        stream.close();
        setTimeout(connect, 3000);
      }
    });
  }
  let listReceive = null;
  window.__mentiond = {
    reconnect() {
      if (stream) stream.close();
      connect();
    },
    disconnect() {
      if (stream) stream.close();
    },
  };

  // ---------- selection and keys ----------
  function cardsInScope(node) {
    const scope = (node && node.closest('.column, .side, .list')) || document.querySelector('.column, .list');
    return scope ? [...scope.querySelectorAll('.card')] : [];
  }
  function selected() {
    return document.querySelector('.card.selected');
  }
  function select(node) {
    if (!node) return;
    for (const other of document.querySelectorAll('.card.selected')) other.classList.remove('selected');
    for (const col of document.querySelectorAll('.column.focused')) col.classList.remove('focused');
    node.classList.add('selected');
    node.classList.remove('is-new');
    const column = node.closest('.column');
    if (column) {
      column.classList.add('focused');
      const view = column.view;
      if (view) {
        view.unread = view.body.querySelectorAll('.card.is-new').length;
        view.showUnread();
      }
    }
    node.scrollIntoView({ block: 'nearest' });
  }
  function moveSelection(step) {
    const current = selected();
    const cards = cardsInScope(current);
    if (!cards.length) return;
    const at = current ? cards.indexOf(current) : -1;
    const next = at < 0 ? 0 : Math.min(cards.length - 1, Math.max(0, at + step));
    select(cards[next]);
  }

  async function ackMarked() {
    const marked = [...document.querySelectorAll('.card.marked')];
    const ids = [...new Set(marked.map((n) => n.card.id))];
    if (!ids.length) return;
    try {
      // The live feed brings the acknowledged cards back as updates.
      await api('POST', '/console/api/hits/ack', { ids });
      for (const n of document.querySelectorAll('.card.marked')) n.classList.remove('marked');
      flash('');
    } catch (err) {
      flash(t('action.failed') + ': ' + err.message);
    }
  }

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) {
      if (e.key === 'Escape') target.blur();
      return;
    }
    if (document.querySelector('dialog[open]')) return;
    const card = selected();
    switch (e.key) {
      case 'j': moveSelection(1); break;
      case 'k': moveSelection(-1); break;
      case 'a': if (card) act('ack', card); break;
      case 't':
        if (card) act(card.card.taken_by && card.card.taken_by === BOOT.user ? 'release' : 'take', card);
        break;
      case 'o':
        if (card && isHttpUrl(card.card.url)) window.open(new URL(card.card.url, location.href).href, '_blank', 'noopener,noreferrer');
        break;
      case 'x': if (card) card.classList.toggle('marked'); break;
      case 'A': ackMarked(); break;
      case '/': {
        const search = document.getElementById('search-box');
        if (search) search.focus();
        break;
      }
      case '?': document.getElementById('keys-dialog').showModal(); break;
      case 'Escape': closeAuthor(); break;
      default: return;
    }
    e.preventDefault();
  });

  // ---------- author history ----------
  async function fillAuthor(list, profile, source, handle, before) {
    const params = new URLSearchParams({ limit: '30' });
    if (before) params.set('before', before);
    const page = await api('GET', '/console/api/authors/' + encodeURIComponent(source) + '/' + encodeURIComponent(handle) + '?' + params);
    const author = page.profile || {};
    if (profile) {
      profile.replaceChildren(
        el('span', { class: 'author-name', dir: 'auto', text: author.name || handle }), ' ',
        el('span', { class: 'handle', dir: 'auto', text: '@' + (author.handle || handle) }), ' · ',
        el('span', { class: 'followers', text: number(author.followers) + ' ' + t('card.followers') }), ' · ',
        el('span', { text: number(author.earlier_hits) + ' ' + t('card.earlier_hits') }));
    }
    for (const card of page.hits || []) {
      if (!list.querySelector('.card[data-id="' + CSS.escape(String(card.id)) + '"]')) list.append(renderCard(card));
    }
    return page.next_before || null;
  }

  function pager(list, profile, source, handle) {
    const more = el('button', { type: 'button', class: 'older', text: t('column.older') });
    let before = null;
    const load = async () => {
      more.disabled = true;
      try {
        before = await fillAuthor(list, profile, source, handle, before);
        more.hidden = !before;
      } catch (err) {
        flash(t('action.failed') + ': ' + err.message);
      } finally {
        more.disabled = false;
      }
    };
    more.addEventListener('click', load);
    load();
    return more;
  }

  function openAuthor(source, handle) {
    const side = document.getElementById('side');
    if (!side || !handle) return;
    const list = el('div', { class: 'list' });
    const profile = el('div', { class: 'profile' });
    const link = el('a', { href: '/authors/' + encodeURIComponent(source) + '/' + encodeURIComponent(handle), text: t('author.page') });
    side.querySelector('.side-body').replaceChildren(profile, link, list, pager(list, profile, source, handle));
    side.querySelector('h2').textContent = '@' + handle;
    side.hidden = false;
  }
  function closeAuthor() {
    const side = document.getElementById('side');
    if (side) side.hidden = true;
  }

  // ---------- header ----------
  async function fillReports() {
    const list = document.getElementById('reports-list');
    if (!list) return;
    try {
      const reports = await api('GET', '/console/api/reports');
      const items = (Array.isArray(reports) ? reports : []).filter((r) => isHttpUrl(r.href));
      list.replaceChildren(...(items.length
        ? items.map((r) => el('li', {}, el('a', { href: new URL(r.href, location.href).href, text: r.date + ' (' + r.format + ')' })))
        : [el('li', {}, el('span', { text: t('header.no_reports') }))]));
    } catch (_) {
      list.replaceChildren(el('li', {}, el('span', { text: t('header.no_reports') })));
    }
  }

  function wireHeader() {
    const lang = document.getElementById('lang-switch');
    if (lang) {
      lang.addEventListener('change', async () => {
        try {
          await api('PUT', '/console/api/me/lang', { lang: lang.value });
          location.reload();
        } catch (err) {
          flash(t('action.failed') + ': ' + err.message);
        }
      });
    }
    const keys = document.getElementById('keys-button');
    if (keys) keys.addEventListener('click', () => document.getElementById('keys-dialog').showModal());
    for (const button of document.querySelectorAll('[data-close-dialog]')) {
      button.addEventListener('click', () => button.closest('dialog').close());
    }
    const close = document.getElementById('side-close');
    if (close) close.addEventListener('click', closeAuthor);
    fillReports();
  }

  // ---------- pages ----------
  async function startConsole() {
    connect();
    try {
      const saved = await api('GET', '/console/api/columns');
      columns = Array.isArray(saved) ? saved : [];
    } catch (err) {
      flash(t('action.failed') + ': ' + err.message);
    }
    renderDeck();
  }

  function startAuthor() {
    const list = document.getElementById('list');
    const profile = document.getElementById('profile');
    list.after(pager(list, profile, BOOT.source, BOOT.author));
    listReceive = (card) => {
      if (list.querySelector('.card[data-id="' + CSS.escape(String(card.id)) + '"]')) return;
      const a = card.author || {};
      if (card.source === BOOT.source && a.key === BOOT.author) list.prepend(renderCard(card));
    };
    connect();
  }

  async function startSearch() {
    const list = document.getElementById('list');
    const q = BOOT.q || '';
    if (!q) return;
    const more = el('button', { type: 'button', class: 'older', text: t('column.older'), hidden: true });
    let before = null;
    const load = async () => {
      const params = new URLSearchParams({ q, limit: '30' });
      if (before) params.set('before', before);
      try {
        const page = await api('GET', '/console/api/search?' + params);
        for (const card of page.hits || []) list.append(renderCard(card));
        before = page.next_before || null;
        more.hidden = !before;
        if (!list.children.length) list.append(el('p', { text: t('search.none') }));
      } catch (err) {
        flash(t('action.failed') + ': ' + err.message);
      }
    };
    more.addEventListener('click', load);
    list.after(more);
    await load();
    connect();
  }

  async function start() {
    if (!csrf && BOOT.page !== 'login') {
      try {
        const me = await api('GET', '/console/api/me');
        csrf = me.csrf || '';
        BOOT.user = BOOT.user || me.user;
      } catch (err) {
        flash(t('action.failed') + ': ' + err.message);
      }
    }
    wireHeader();
    if (BOOT.page === 'console') await startConsole();
    else if (BOOT.page === 'author') startAuthor();
    else if (BOOT.page === 'search') await startSearch();
  }

  if (BOOT.page && BOOT.page !== 'login') start();
})();
