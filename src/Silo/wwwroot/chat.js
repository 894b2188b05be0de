// The gateway's chat page: one session over the WebSocket protocol of docs/websocket.md.
// The node keeps the conversation; this page only renders what the node sends and sends what the user does.
// Every connection starts with a `state` message, so the page redraws the whole conversation from it and
// a reload, a reconnect or a second tab all show the same session.
(() => {
  'use strict';

  /** What an automatic answer to a tool call says: the page has no real tools. */
  const STUB_TOOL_RESULT = '{"ok":true}';

  /** The node's session id rule (X-Session-Id): 1–128 letters, digits and . _ : - */
  const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

  /** Reconnect backoff: doubled per failed attempt from the first delay up to the cap, with jitter. */
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 15000;

  /** Closed for idleness: reconnecting on our own would only defeat the node's idle timeout. */
  const CLOSE_IDLE = 4001;

  const REASONS = {
    loop_limit: 'loop limit reached',
    token_velocity: 'token velocity budget exceeded',
    model_unavailable: 'no model could answer',
    session_ended: 'the session was ended by an operator',
  };

  /** Reasons for which the node trips the session: it makes no more model calls until an operator resumes it. */
  const TRIP_REASONS = new Set(['loop_limit', 'token_velocity']);

  const CLOSE_CODES = {
    1000: 'normal closure',
    1001: 'node shutting down',
    1005: 'no status',
    1006: 'connection lost',
    1009: 'message too large',
    1011: 'server error',
    4001: 'idle timeout',
    4008: 'slow consumer',
    4029: 'too many sockets on this session',
  };

  const PHASES = { idle: 'idle', streaming: 'streaming', awaiting_tool: 'awaiting tool result' };

  const ROLE_LABELS = { user: 'You', assistant: 'Assistant', tool: 'Tool', system: 'System', gateway: 'Gateway' };

  const $ = (id) => document.getElementById(id);
  const ui = {
    apiKey: $('api-key'),
    sessionId: $('session-id'),
    newSession: $('new-session'),
    connection: $('connection-state'),
    reconnect: $('reconnect'),
    closeInfo: $('close-info'),
    phase: $('phase'),
    status: $('session-status'),
    loops: $('loop-count'),
    tokens: $('tokens'),
    banner: $('trip-banner'),
    bannerTitle: $('trip-title'),
    bannerReason: $('trip-reason'),
    bannerText: $('trip-text'),
    bannerHint: $('trip-hint'),
    scroller: document.querySelector('main'),
    transcript: $('transcript'),
    error: $('error'),
    errorCode: $('error-code'),
    errorMessage: $('error-message'),
    errorDismiss: $('error-dismiss'),
    form: $('composer'),
    model: $('model'),
    autoTools: $('auto-tools'),
    message: $('message'),
    send: $('send'),
    stop: $('stop'),
  };

  const page = {
    sessionId: '',
    socket: null,
    attempt: 0,
    reconnectTimer: 0,
    /** The session's admin view as last known (from `state`, kept up to date by `done` and `fallback`). */
    session: null,
    /** Whether the token count was moved by usage reports since the last `state` (then it is an estimate). */
    tokensEstimated: false,
    /** The assistant bubble streamed tokens go to, until the model call ends. */
    assistant: null,
    /** Texts this tab sent whose echo has not come back yet. */
    sentTexts: [],
    /** Whether this tab started the running task: only that tab answers its tool calls automatically. */
    ownsTask: false,
    /** Tool calls to answer automatically once their model call is `done` (the node then waits for them). */
    autoQueue: [],
    /** Whether the transcript keeps scrolling to the newest message (false while the reader has scrolled up). */
    following: true,
  };

  // ---- session id and connection ---------------------------------------------------------------

  function sessionFromHash() {
    const id = new URLSearchParams(location.hash.slice(1)).get('session');
    return id && SESSION_ID.test(id) ? id : null;
  }

  function newSessionId() {
    const bytes = new Uint8Array(10);
    crypto.getRandomValues(bytes); // crypto.randomUUID needs a secure context; a LAN http address is not one.
    return 'chat-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** Joins the session named in the hash, or starts a new one and writes it there (reload or a copied link rejoins). */
  function joinSessionFromHash() {
    let id = sessionFromHash();
    if (!id) {
      id = newSessionId();
      history.replaceState(null, '', '#session=' + id);
    }

    if (id === page.sessionId) return;
    page.sessionId = id;
    ui.sessionId.textContent = id;
    document.title = 'Agent Gateway · ' + id;
    page.ownsTask = false;
    page.sentTexts = [];
    resetConversation();
    hideBanner();
    hideError();
    page.attempt = 0;
    connect();
  }

  function socketUrl() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/v1/sessions/${encodeURIComponent(page.sessionId)}/ws`;
  }

  // ---- tenant key (optional) ---------------------------------------------------------------------
  // Browsers cannot set headers on a WebSocket: the key travels as a subprotocol the node never echoes
  // (docs/websocket.md). It is kept in this tab's sessionStorage only.

  const KEY_STORAGE = 'agent-gateway.api-key';

  function apiKey() {
    return (ui.apiKey && ui.apiKey.value.trim()) || '';
  }

  function base64Url(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function socketProtocols() {
    const key = apiKey();
    return key ? ['agent-gateway', 'agent-gateway.bearer.' + base64Url(key)] : [];
  }

  function authHeaders(headers) {
    const key = apiKey();
    return key ? { ...headers, Authorization: 'Bearer ' + key } : headers;
  }

  function connect() {
    clearTimeout(page.reconnectTimer);
    const old = page.socket;
    page.socket = null; // events of a replaced socket are ignored below
    if (old && old.readyState <= WebSocket.OPEN) old.close(1000, 'session changed');

    setConnection('connecting', 'connecting…');
    const socket = new WebSocket(socketUrl(), socketProtocols());
    page.socket = socket;
    socket.addEventListener('open', () => {
      if (socket === page.socket) setConnection('open', 'connected');
    });
    socket.addEventListener('message', (event) => {
      if (socket === page.socket) onFrame(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== page.socket) return;
      page.socket = null;
      onClosed(event);
    });
  }

  function onClosed(event) {
    const words = CLOSE_CODES[event.code] || 'closed';
    ui.closeInfo.textContent = `last close: ${event.code} ${words}${event.reason ? ' (' + event.reason + ')' : ''}`;
    ui.closeInfo.dataset.code = String(event.code);
    finishAssistant();
    page.autoQueue = [];
    if (event.code === CLOSE_IDLE) {
      setConnection('closed', 'closed (idle)');
      return;
    }

    // 0.5 s, 1 s, 2 s … 15 s, each between half and all of it so many tabs do not come back in step.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** page.attempt);
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    page.attempt += 1;
    setConnection('reconnecting', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
    page.reconnectTimer = setTimeout(connect, delay);
  }

  function setConnection(state, text) {
    ui.connection.dataset.state = state;
    ui.connection.textContent = text;
    ui.reconnect.hidden = state === 'open' || state === 'connecting';
    const open = state === 'open';
    ui.send.disabled = !open;
    ui.stop.disabled = !open;
  }

  function send(message) {
    const socket = page.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showError('not-connected', 'The connection to the node is not open; nothing was sent.');
      return false;
    }

    socket.send(JSON.stringify(message));
    return true;
  }

  // ---- server messages ---------------------------------------------------------------------------

  function onFrame(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }

    if (!message || typeof message !== 'object') return;
    switch (message.type) {
      case 'state': onState(message); break;
      case 'user_message': onUserMessage(message); break;
      case 'token': onToken(message); break;
      case 'tool_call': onToolCall(message); break;
      case 'tool_result': onToolResult(message); break;
      case 'done': onDone(message); break;
      case 'fallback': onFallback(message); break;
      case 'error': onError(message); break;
      default: break; // pong, and types a newer node may add
    }
  }

  /** The first message of every connection: the whole conversation is drawn again from it. */
  function onState(message) {
    page.attempt = 0;
    resetConversation();
    for (const item of Array.isArray(message.history) ? message.history : []) {
      addHistoryEntry(item);
    }

    setPhase(message.phase);
    if (message.phase === 'streaming' && message.partial) {
      streamInto(message.partial);
    }

    for (const call of Array.isArray(message.pending_tool_calls) ? message.pending_tool_calls : []) {
      // A reconnecting tab that started the task answers what is still pending; a newly opened one only offers.
      const mode = page.ownsTask && ui.autoTools.checked ? 'now' : 'manual';
      const shown = findToolCall(call.call_id);
      if (shown) settleToolCall(shown, mode);
      else addToolCall(call, mode);
    }

    page.session = message.session || null;
    page.tokensEstimated = false;
    renderSession();
    if (page.session && page.session.status === 'tripped') {
      showBanner(page.session.tripReason, '');
    } else {
      hideBanner();
    }
  }

  function onUserMessage(message) {
    const index = page.sentTexts.indexOf(message.text);
    if (index >= 0) page.sentTexts.splice(index, 1);
    page.ownsTask = index >= 0;
    finishAssistant();
    page.autoQueue = [];
    closeOpenToolCalls('not answered');
    if (!ui.banner.dataset.tripped) hideBanner(); // a new task clears "no model could answer", never a trip
    addMessage('user', message.text, message.model ? { model: message.model } : undefined);
    setPhase('streaming');
  }

  function onToken(message) {
    if (typeof message.text === 'string') streamInto(message.text);
    setPhase('streaming');
  }

  function onToolCall(message) {
    finishAssistant();
    addToolCall(message, page.ownsTask && ui.autoTools.checked ? 'queued' : 'manual');
  }

  function onDone(message) {
    const stopped = page.assistant;
    finishAssistant();
    if (stopped && message.finish_reason === 'cancelled') stopped.dataset.cutOff = 'true';
    const usage = message.usage || {};
    const parts = [
      message.model,
      message.route && 'route ' + message.route,
      message.loop_count != null && 'loop ' + message.loop_count,
      usage.input_tokens != null && `${usage.input_tokens} in / ${usage.output_tokens} out tokens`,
      message.finish_reason,
    ].filter(Boolean);
    const meta = element('li', { class: 'meta', 'data-testid': 'done', 'data-finish-reason': message.finish_reason || '' });
    meta.textContent = parts.join(' · ');
    append(meta);

    if (page.session) {
      if (typeof message.loop_count === 'number') page.session.loopCount = message.loop_count;
      const spent = (usage.input_tokens || 0) + (usage.output_tokens || 0);
      if (spent > 0 && typeof page.session.tokensInWindow === 'number') {
        page.session.tokensInWindow += spent;
        page.tokensEstimated = true;
      }

      renderSession();
    }

    if (message.finish_reason === 'tool_calls') {
      setPhase('awaiting_tool');
      // The node waits for every call of this turn now: answer the ones this tab answers by itself.
      const queued = page.autoQueue;
      page.autoQueue = [];
      for (const call of queued) answerAutomatically(call);
    } else {
      // Ended without tools to answer (or a stopped tool round): nothing waits for a result any more.
      if (message.finish_reason === 'cancelled') {
        closeOpenToolCalls('cancelled');
      }

      setPhase('idle');
    }
  }

  function onFallback(message) {
    const cutOff = page.assistant;
    finishAssistant();
    if (cutOff) cutOff.dataset.cutOff = 'true';
    page.autoQueue = [];
    closeOpenToolCalls('not answered');
    const words = REASONS[message.reason] || message.reason;
    addMessage('gateway', message.text, { reason: message.reason, testid: 'fallback', note: words });
    if (TRIP_REASONS.has(message.reason)) {
      if (page.session) {
        page.session.status = 'tripped';
        page.session.tripReason = message.reason;
        renderSession();
      }

      showBanner(message.reason, message.text);
    } else {
      showBanner(message.reason, message.text);
    }

    setPhase('idle');
  }

  function onError(message) {
    showError(message.code, message.message);
    if (message.code === 'tool-timeout') {
      closeOpenToolCalls('no result in time');
      setPhase('idle');
    }
  }

  // ---- transcript --------------------------------------------------------------------------------

  function resetConversation() {
    ui.transcript.replaceChildren();
    page.assistant = null;
    page.autoQueue = [];
  }

  /**
   * One message of the node's history: text, an assistant turn's tool calls, or a tool result (shown on the
   * call it answers).
   */
  function addHistoryEntry(entry) {
    const role = entry.role || 'assistant';
    const calls = Array.isArray(entry.tool_calls) ? entry.tool_calls : [];
    if (role === 'tool' && entry.call_id) {
      const call = findToolCall(entry.call_id);
      if (call) {
        call.item.dataset.answered = 'earlier';
        call.status.textContent = 'answered: ' + (entry.text ?? '');
        return;
      }
    }

    if (entry.text || calls.length === 0) addMessage(role, entry.text);
    for (const call of calls) addToolCall(call, 'history');
  }

  function addMessage(role, text, options = {}) {
    const item = element('li', {
      class: 'msg msg-' + role,
      'data-testid': options.testid || 'message',
      'data-role': role,
    });
    if (options.reason) item.dataset.reason = options.reason;
    const head = element('div', { class: 'who' });
    head.textContent = ROLE_LABELS[role] || role;
    if (options.model) head.append(element('span', { class: 'muted' }, ' · ' + options.model));
    if (options.note) head.append(element('span', { class: 'muted' }, ' · ' + options.note));
    const body = element('div', { class: 'text', 'data-testid': 'message-text' });
    body.textContent = text == null ? '' : String(text);
    item.append(head, body);
    append(item);
    return item;
  }

  function streamInto(text) {
    if (!page.assistant) {
      page.assistant = addMessage('assistant', '');
      page.assistant.dataset.streaming = 'true';
      page.assistant.setAttribute('aria-busy', 'true');
    }

    page.assistant.querySelector('.text').append(text);
    keepScrolled();
  }

  function finishAssistant() {
    if (!page.assistant) return;
    page.assistant.dataset.streaming = 'false';
    page.assistant.removeAttribute('aria-busy');
    page.assistant.querySelector('.text').normalize();
    page.assistant = null;
  }

  /**
   * A tool call, answered automatically ('now', or 'queued' until its model call is done), offered with a field
   * to answer it by hand ('manual'), or only shown ('history': a past call, its result follows in the history).
   */
  function addToolCall(call, mode) {
    const callId = String(call.call_id ?? call.id ?? '');
    const item = element('li', { class: 'msg msg-tool-call', 'data-testid': 'tool-call', 'data-call-id': callId, 'data-answered': '' });
    const head = element('div', { class: 'who' }, 'Tool call ');
    head.append(element('code', { 'data-testid': 'tool-call-name' }, call.name || '?'));
    const args = element('pre', { class: 'args', 'data-testid': 'tool-call-arguments' }, formatArguments(call.arguments));
    const status = element('div', { class: 'tool-status muted', 'data-testid': 'tool-call-status' });
    item.append(head, args, status);
    append(item);
    const entry = { callId, item, status };
    if (mode === 'history') {
      status.textContent = 'no result';
    } else {
      settleToolCall(entry, mode);
    }

    return entry;
  }

  function settleToolCall(entry, mode) {
    if (mode === 'now') {
      answerAutomatically(entry);
    } else if (mode === 'queued') {
      entry.status.textContent = 'will be answered automatically';
      page.autoQueue.push(entry);
    } else {
      offerManualAnswer(entry);
    }
  }

  /** Tool calls still offering a field to answer by hand: their round is over, so the field goes. */
  function closeOpenToolCalls(note) {
    for (const form of ui.transcript.querySelectorAll('.tool-answer')) {
      const item = form.closest('[data-testid=tool-call]');
      form.remove();
      if (item) item.querySelector('[data-testid=tool-call-status]').textContent = note;
    }
  }

  /** The tool call shown with this id, if any (compared as text: ids are not CSS-escaped). */
  function findToolCall(callId) {
    for (const item of ui.transcript.querySelectorAll('[data-testid=tool-call]')) {
      if (item.dataset.callId === String(callId)) {
        return { callId: item.dataset.callId, item, status: item.querySelector('[data-testid=tool-call-status]') };
      }
    }

    return null;
  }

  /** A result was accepted (from this tab or another): the call shows as answered everywhere. */
  function onToolResult(message) {
    const entry = findToolCall(message.call_id);
    if (!entry || entry.item.dataset.answered) return;
    entry.item.dataset.answered = 'elsewhere';
    entry.item.querySelector('.tool-answer')?.remove();
    entry.status.textContent = 'answered: ' + String(message.content ?? '');
  }

  function answerAutomatically(entry) {
    if (send({ type: 'tool_result', call_id: entry.callId, content: STUB_TOOL_RESULT })) {
      entry.item.dataset.answered = 'auto';
      entry.status.textContent = 'answered automatically: ' + STUB_TOOL_RESULT;
    } else {
      offerManualAnswer(entry);
    }
  }

  function offerManualAnswer(entry) {
    const form = element('form', { class: 'tool-answer', 'data-testid': 'tool-result-form' });
    const id = 'tool-result-' + entry.callId;
    const label = element('label', { for: id }, 'Result');
    const input = element('input', { id, type: 'text', 'data-testid': 'tool-result-input', autocomplete: 'off' });
    input.value = STUB_TOOL_RESULT;
    const button = element('button', { type: 'submit', 'data-testid': 'tool-result-send' }, 'Send result');
    form.append(label, input, button);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!send({ type: 'tool_result', call_id: entry.callId, content: input.value })) return;
      entry.item.dataset.answered = 'manual';
      entry.status.textContent = 'answered: ' + input.value;
      form.remove();
      ui.message.focus();
    });
    entry.item.querySelector('.tool-answer')?.remove();
    entry.status.textContent = '';
    entry.status.after(form);
  }

  function formatArguments(args) {
    if (args == null) return '{}';
    if (typeof args === 'string') return args;
    try {
      return JSON.stringify(args);
    } catch {
      return String(args);
    }
  }

  function append(item) {
    ui.transcript.append(item);
    keepScrolled();
  }

  /** Follows the conversation unless the reader has scrolled up to read. */
  function keepScrolled() {
    if (page.following) ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  function nearBottom() {
    const s = ui.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 40;
  }

  // ---- session facts, banner, errors -------------------------------------------------------------

  function setPhase(phase) {
    ui.phase.dataset.phase = phase || '';
    ui.phase.textContent = PHASES[phase] || phase || '–';
  }

  function renderSession() {
    const s = page.session;
    if (!s) return;
    ui.status.dataset.status = s.status || '';
    ui.status.textContent = (s.status || '–') + (s.tripReason ? ` (${REASONS[s.tripReason] || s.tripReason})` : '');
    ui.loops.textContent = `${s.loopCount ?? '–'} / ${s.maxLoops ?? '–'}`;
    ui.tokens.textContent = `${page.tokensEstimated ? '≈ ' : ''}${s.tokensInWindow ?? '–'} / ${s.tokenBudget ?? '–'}`;
    ui.tokens.title = page.tokensEstimated
      ? 'Counted at connect, plus the usage reported since; the window also forgets old tokens.'
      : 'As the node counted at connect.';
  }

  function showBanner(reason, text) {
    const tripped = TRIP_REASONS.has(reason);
    ui.banner.dataset.reason = reason || '';
    ui.banner.dataset.tripped = tripped ? 'true' : '';
    ui.bannerTitle.textContent = tripped ? 'The session was stopped:' : 'The answer was stopped:';
    ui.bannerReason.textContent = REASONS[reason] || reason || 'unknown reason';
    ui.bannerText.textContent = text || '';
    ui.bannerText.hidden = !text;
    ui.bannerHint.textContent = tripped
      ? `The gateway makes no more model calls for this session until an operator resumes it (POST /admin/sessions/${page.sessionId}/resume).`
      : 'Every model and fallback failed for this call; try again later.';
    ui.banner.hidden = false;
    keepScrolled(); // the banner takes room from the transcript
  }

  function hideBanner() {
    ui.banner.hidden = true;
    ui.banner.dataset.reason = '';
    ui.banner.dataset.tripped = '';
  }

  function showError(code, message) {
    ui.errorCode.textContent = code || 'error';
    ui.errorMessage.textContent = message || '';
    ui.error.hidden = false;
  }

  function hideError() {
    ui.error.hidden = true;
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text != null) node.textContent = text;
    return node;
  }

  // ---- user actions ------------------------------------------------------------------------------

  async function loadModels() {
    try {
      const response = await fetch('/v1/models', { headers: authHeaders({ Accept: 'application/json' }) });
      if (!response.ok) throw new Error('GET /v1/models answered ' + response.status);
      const list = await response.json();
      const ids = (list.data || []).map((m) => m.id).filter((id) => typeof id === 'string');
      if (ids.length === 0) return;
      ui.model.replaceChildren(...ids.map((id) => element('option', { value: id }, id)));
    } catch (error) {
      // The node's default model still answers; the selector just keeps "(default)".
      showError('models-unavailable', String(error && error.message ? error.message : error));
    }
  }

  function submitMessage() {
    const text = ui.message.value;
    if (!text.trim()) return;
    const message = { type: 'user_message', text };
    if (ui.model.value) message.model = ui.model.value;
    if (!send(message)) return;
    page.sentTexts.push(text);
    ui.message.value = '';
    hideError();
    ui.message.focus();
  }

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitMessage();
  });
  ui.message.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (!ui.send.disabled) submitMessage();
    }
  });
  ui.stop.addEventListener('click', () => send({ type: 'cancel' }));
  ui.reconnect.addEventListener('click', () => connect());
  ui.newSession.addEventListener('click', () => {
    location.hash = 'session=' + newSessionId();
  });
  ui.errorDismiss.addEventListener('click', hideError);
  ui.scroller.addEventListener('scroll', () => {
    page.following = nearBottom();
  });
  window.addEventListener('hashchange', joinSessionFromHash);
  ui.apiKey.value = sessionStorage.getItem(KEY_STORAGE) || '';
  ui.apiKey.addEventListener('change', () => {
    // A new key: remember it for this tab, reconnect with it and reload the models it may see.
    if (apiKey()) sessionStorage.setItem(KEY_STORAGE, apiKey());
    else sessionStorage.removeItem(KEY_STORAGE);
    page.attempt = 0;
    connect();
    loadModels();
  });

  joinSessionFromHash();
  loadModels();
  ui.message.focus();
})();
