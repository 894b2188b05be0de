'use strict';

// The operator dashboard. Everything shown comes from the node's push feed GET /admin/events (Server-Sent
// Events, one "snapshot" event whenever something changed). The feed is read with fetch() and a streamed body
// rather than EventSource, so the admin key (kept in sessionStorage, never in the URL) can be sent as
// "Authorization: Bearer"; with no key the node answers loopback callers only. Resume and End call the admin API.

(() => {
  const KEY_STORAGE = 'agent-gateway.admin-key';
  const $ = (id) => document.getElementById(id);
  const el = {
    connection: $('connection'),
    connectionInfo: $('connection-info'),
    updatedAt: $('updated-at'),
    nodes: $('nodes'),
    keyForm: $('key-form'),
    key: $('admin-key'),
    queue: $('review-queue'),
    queueCount: $('queue-count'),
    queueEmpty: $('queue-empty'),
    breakers: $('breakers'),
    sessions: $('sessions'),
    sessionsCount: $('sessions-count'),
    sessionsNote: $('sessions-note'),
    alerts: $('alerts'),
    alertsEmpty: $('alerts-empty'),
  };

  let feedAbort = null;
  let retryTimer = null;
  let retryDelay = 1000;

  function adminKey() {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  }

  function authHeaders(extra) {
    const headers = Object.assign({}, extra || {});
    const key = adminKey();
    if (key) {
      headers.Authorization = 'Bearer ' + key;
    }
    return headers;
  }

  function setConnection(state, info) {
    el.connection.dataset.state = state;
    el.connection.textContent = state;
    el.connectionInfo.textContent = info || '';
  }

  function node(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) {
        e.setAttribute(k, v);
      }
    }
    if (text !== undefined && text !== null) {
      e.textContent = text;
    }
    return e;
  }

  function time(iso) {
    if (!iso) {
      return '–';
    }
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString();
  }

  // ---- the feed -------------------------------------------------------------------------------------------

  function connect() {
    if (feedAbort) {
      feedAbort.abort();
    }
    clearTimeout(retryTimer);
    const abort = new AbortController();
    feedAbort = abort;
    setConnection('connecting');
    readFeed(abort).catch((err) => {
      if (abort.signal.aborted) {
        return;
      }
      scheduleRetry(String(err && err.message ? err.message : err));
    });
  }

  function scheduleRetry(info) {
    setConnection('closed', (info ? info + '; ' : '') + 'retrying in ' + Math.round(retryDelay / 1000) + ' s');
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  }

  async function readFeed(abort) {
    const response = await fetch('/admin/events', {
      headers: authHeaders({ Accept: 'text/event-stream' }),
      cache: 'no-store',
      signal: abort.signal,
    });
    if (response.status === 401 || response.status === 403) {
      let detail = '';
      try {
        detail = (await response.json()).detail || '';
      } catch (_) { /* not problem details */ }
      setConnection('unauthorized', response.status + ' ' + detail);
      return; // waits for a key: no retry loop against a refusal
    }
    if (!response.ok || !response.body) {
      throw new Error('HTTP ' + response.status);
    }
    setConnection('open');
    retryDelay = 1000;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        dispatch(frame);
      }
    }
    if (!abort.signal.aborted) {
      scheduleRetry('feed ended');
    }
  }

  function dispatch(frame) {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) {
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) {
        value = value.slice(1);
      }
      if (field === 'event') {
        event = value;
      } else if (field === 'data') {
        data.push(value);
      }
    }
    if (event === 'snapshot' && data.length > 0) {
      render(JSON.parse(data.join('\n')));
    }
  }

  // ---- rendering ------------------------------------------------------------------------------------------

  function render(snapshot) {
    el.updatedAt.textContent = time(snapshot.at);
    el.updatedAt.dataset.at = snapshot.at;
    el.nodes.textContent = snapshot.nodes
      .map((n) => n.node + ' (' + (n.sessionActivations ?? '?') + ' sessions, ' + n.sockets + ' sockets)')
      .join(', ') || '–';
    renderQueue(snapshot.sessions.filter((s) => s.status === 'tripped'));
    renderBreakers(snapshot.breakers);
    renderSessions(snapshot.sessions, snapshot.limits);
    renderAlerts(snapshot.alerts);
  }

  // Queue items are kept by session id and updated in place, so a note being typed survives every snapshot.
  function renderQueue(tripped) {
    const existing = new Map();
    for (const li of el.queue.querySelectorAll('[data-testid=queue-item]')) {
      existing.set(li.dataset.sessionId, li);
    }
    const keep = new Set();
    for (const s of tripped) {
      keep.add(s.sessionId);
      let li = existing.get(s.sessionId);
      if (!li) {
        li = queueItem(s.sessionId);
      }
      li.querySelector('[data-testid=queue-reason]').textContent = s.tripReason || 'tripped';
      li.querySelector('[data-testid=queue-facts]').textContent =
        'loops ' + s.loopCount + ' / ' + s.maxLoops + ' · tokens ' + s.tokensInWindow + ' / ' + s.tokenBudget +
        ' · tripped ' + time(s.trippedAt) + (s.tenant ? ' · tenant ' + s.tenant : '');
      el.queue.appendChild(li); // keeps the feed's order
    }
    for (const [id, li] of existing) {
      if (!keep.has(id)) {
        li.remove();
      }
    }
    el.queueCount.textContent = String(tripped.length);
    el.queueEmpty.hidden = tripped.length > 0;
  }

  function queueItem(sessionId) {
    const li = node('li', { 'data-testid': 'queue-item', 'data-session-id': sessionId, class: 'queue-item' });
    const head = node('div', { class: 'queue-head' });
    head.append(
      node('code', { 'data-testid': 'queue-session-id' }, sessionId),
      node('span', { 'data-testid': 'queue-reason', class: 'reason' }));
    const facts = node('div', { 'data-testid': 'queue-facts', class: 'muted' });
    const form = node('form', { class: 'queue-actions', autocomplete: 'off' });
    const note = node('input', {
      type: 'text', 'data-testid': 'note-input', placeholder: 'operator note (kept in the audit trail)',
      'aria-label': 'Operator note for ' + sessionId, maxlength: '2000',
    });
    const resume = node('button', { type: 'button', 'data-testid': 'resume', class: 'resume' }, 'Resume');
    const end = node('button', { type: 'button', 'data-testid': 'end', class: 'end' }, 'End');
    const status = node('span', { 'data-testid': 'action-status', class: 'muted', role: 'status' });
    form.append(note, resume, end, status);
    form.addEventListener('submit', (e) => e.preventDefault());
    resume.addEventListener('click', () => act(li, sessionId, 'resume'));
    end.addEventListener('click', () => act(li, sessionId, 'end'));
    li.append(head, facts, form);
    return li;
  }

  async function act(li, sessionId, action) {
    const note = li.querySelector('[data-testid=note-input]').value.trim();
    const status = li.querySelector('[data-testid=action-status]');
    const buttons = li.querySelectorAll('button');
    if (!note) {
      status.textContent = 'write a note first';
      li.querySelector('[data-testid=note-input]').focus();
      return;
    }
    buttons.forEach((b) => { b.disabled = true; });
    status.textContent = action === 'resume' ? 'resuming…' : 'ending…';
    try {
      const response = await fetch('/admin/sessions/' + encodeURIComponent(sessionId) + '/' + action, {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ note }),
      });
      if (response.ok) {
        const view = await response.json();
        status.textContent = (action === 'resume' ? 'resumed' : 'ended') + ' (now ' + view.status + ')';
        li.dataset.done = action;
      } else {
        let detail = '';
        try {
          detail = (await response.json()).detail || '';
        } catch (_) { /* not problem details */ }
        status.textContent = 'failed: ' + response.status + ' ' + detail;
        buttons.forEach((b) => { b.disabled = false; });
      }
    } catch (err) {
      status.textContent = 'failed: ' + err;
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function renderBreakers(breakers) {
    el.breakers.replaceChildren(...breakers.map((b) => {
      const li = node('li', { 'data-testid': 'breaker', 'data-model': b.model, 'data-state': b.state, class: 'breaker state-' + b.state });
      li.append(
        node('span', { class: 'model', 'data-testid': 'breaker-model' }, b.model),
        node('span', { class: 'state', 'data-testid': 'breaker-state' }, b.state),
        node('span', { class: 'muted' },
          'failures ' + b.failuresInWindow + ' / ' + b.callsInWindow + ' · opened ' + b.openCount + '×' +
          (b.nextHalfOpenAt ? ' · probe at ' + time(b.nextHalfOpenAt) : '')));
      return li;
    }));
  }

  function renderSessions(sessions, limits) {
    el.sessions.replaceChildren(...sessions.map((s) => {
      const tr = node('tr', { 'data-testid': 'session-row', 'data-session-id': s.sessionId, 'data-status': s.status, class: 'status-' + s.status });
      const statusText = s.status + (s.tripReason ? ' (' + s.tripReason + ')' : '');
      const tokens = node('td', { 'data-testid': 'session-tokens' }, s.tokensInWindow + ' / ' + s.tokenBudget);
      const velocity = node('td', { 'data-testid': 'session-velocity' });
      velocity.append(sparkline(s.velocity, s.tokenBudget, limits));
      tr.append(
        node('td', {}, null),
        node('td', { 'data-testid': 'session-status' }, statusText),
        node('td', { 'data-testid': 'session-loops' }, s.loopCount + ' / ' + s.maxLoops),
        tokens,
        velocity,
        node('td', {}, s.tenant || '–'));
      tr.firstChild.append(node('code', { 'data-testid': 'session-id' }, s.sessionId));
      return tr;
    }));
    el.sessionsCount.textContent = String(sessions.length);
    el.sessionsNote.hidden = !limits.sessionsTruncated;
    el.sessionsNote.textContent = limits.sessionsTruncated
      ? 'Showing the first ' + limits.maxSessions + ' sessions by id, and every tripped one.'
      : '';
  }

  // Tokens per bucket of the session's window (oldest first): a polyline scaled to the largest bucket.
  function sparkline(values, budget, limits) {
    const NS = 'http://www.w3.org/2000/svg';
    const width = 120;
    const height = 24;
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('class', 'sparkline');
    svg.setAttribute('data-testid', 'sparkline');
    svg.setAttribute('data-values', values.join(','));
    const total = values.reduce((a, b) => a + b, 0);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', total + ' tokens in the last ' + limits.windowSeconds + ' s, per ' + limits.bucketSeconds + ' s');
    const max = Math.max(1, ...values);
    const step = values.length > 1 ? width / (values.length - 1) : width;
    const points = values.map((v, i) => (i * step).toFixed(1) + ',' + (height - 2 - (v / max) * (height - 4)).toFixed(1));
    const line = document.createElementNS(NS, 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('class', total > budget / 2 ? 'hot' : 'cool');
    svg.append(line);
    return svg;
  }

  function renderAlerts(alerts) {
    el.alerts.replaceChildren(...alerts.map((a) => {
      const li = node('li', { 'data-testid': 'alert', 'data-kind': a.kind, 'data-severity': a.severity, class: 'alert severity-' + a.severity.toLowerCase() });
      const deliveries = node('span', { class: 'deliveries' });
      for (const d of a.deliveries) {
        deliveries.append(node('span', {
          'data-testid': 'delivery', 'data-sink': d.sink, 'data-status': d.status, class: 'delivery delivery-' + d.status,
          title: d.lastError || '',
        }, d.sink + ': ' + d.status + (d.attempts > 1 ? ' (' + d.attempts + ' attempts)' : '')));
      }
      li.append(
        node('span', { class: 'muted' }, time(a.storedAt)),
        node('span', { 'data-testid': 'alert-text' }, a.text),
        deliveries);
      return li;
    }));
    el.alertsEmpty.hidden = alerts.length > 0;
  }

  // ---- start ----------------------------------------------------------------------------------------------

  el.key.value = adminKey();
  el.keyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = el.key.value.trim();
    if (key) {
      sessionStorage.setItem(KEY_STORAGE, key);
    } else {
      sessionStorage.removeItem(KEY_STORAGE);
    }
    retryDelay = 1000;
    connect();
  });
  connect();
})();
