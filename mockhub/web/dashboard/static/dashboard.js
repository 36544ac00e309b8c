// mockhub dashboard: plain JavaScript, no library, no build step. Everything it shows comes from the control API
// (/__mockhub/...) and from the event stream /__mockhub/ui/stream, read with fetch so that it can carry the admin
// token as a header (docs/decisions.md, The dashboard). Data is only ever put in the page as text, never as HTML.
'use strict';

(() => {
  const SERVER = document.body.dataset.server; // "serve" or "proxy"
  const TOKEN_KEY = 'mockhub.adminToken';
  const KEPT = 2000; // requests the page keeps
  const SHOWN = 500; // rows shown at most
  const CHART_SECONDS = 300;
  const HISTORY_SESSIONS = 20; // sessions whose journal is read when the page connects
  const NOT_COPIED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding',
    'accept-encoding', 'user-agent']);

  const $ = (selector) => document.querySelector(selector);

  // ---- building the page (text only) ----------------------------------------------------------------------------

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') element.className = value;
      else if (name === 'dataset') Object.assign(element.dataset, value);
      else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? '' : value);
    }
    element.append(...nodes(children));
    return element;
  }

  // Children as nodes: arrays flattened, nothing for null, undefined or false, text for anything else.
  function nodes(children) {
    return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false)
      .map((child) => (child instanceof Node ? child : document.createTextNode(String(child))));
  }

  function fill(element, ...children) {
    element.replaceChildren(...nodes(children));
  }

  function svg(tag, attributes) {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'text') element.textContent = value;
      else element.setAttribute(name, value);
    }
    return element;
  }

  function pretty(text) {
    if (!text) return '';
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
  }

  function parsed(text) {
    if (!text) return undefined;
    try { return JSON.parse(text); } catch (_) { return undefined; }
  }

  function headerList(headers) {
    const entries = Object.entries(headers || {});
    if (!entries.length) return h('p', { class: 'muted' }, 'no headers');
    return h('dl', { class: 'headers' }, entries.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
  }

  function problemList(problems) {
    return h('ul', {}, problems.map((p) => h('li', {}, `${p.in}${p.at ? ` ${p.at}` : ''}: ${p.message}`)));
  }

  function statusClass(status) {
    return status ? `s${Math.floor(status / 100)}` : 's0';
  }

  // ---- notices and the admin token --------------------------------------------------------------------------------

  function notice(text) {
    $('#notice-text').textContent = text;
    $('#notice').hidden = false;
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  function withToken(headers) {
    const value = token();
    return value ? { ...headers, 'X-Mockhub-Admin-Token': value } : { ...headers };
  }

  function askForToken(why) {
    $('#token-form').classList.add('wanted');
    notice(`${why} Type the server's admin token (its --admin-token) in the field above: this tab keeps it ` +
      'until it closes and sends it with each call.');
  }

  function withSession(path, session) {
    return `${path}${path.includes('?') ? '&' : '?'}session=${encodeURIComponent(session)}`;
  }

  // One call of the control API: its status, its JSON (or text) and, when it failed, the error as the API says it.
  async function call(method, path, value) {
    const init = { method, credentials: 'omit', cache: 'no-store', headers: withToken(value === undefined ? {} :
      { 'Content-Type': 'application/json' }) };
    if (value !== undefined) init.body = typeof value === 'string' ? value : JSON.stringify(value);
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      return { status: 0, ok: false, data: null, error: `The server did not answer (${error.message}).` };
    }
    const text = await response.text();
    let data = text;
    try { data = text ? JSON.parse(text) : null; } catch (_) { /* not JSON: kept as text */ }
    const error = response.ok ? null : `${response.status}: ${data && data.error ? data.error : text}`;
    if (response.status === 401) askForToken(error);
    return { status: response.status, ok: response.ok, data, error };
  }

  // ---- the requests ----------------------------------------------------------------------------------------------

  const requests = []; // newest first
  const known = new Set(); // session/seq of every request the page holds
  const fresh = []; // received, not drawn yet
  let uid = 0;
  let selected = null;
  let paused = false;
  let drawing = false;

  function keyOf(entry) { return `${entry.session}/${entry.seq}`; }

  function received(entry) {
    entry.uid = ++uid;
    entry.seenAt = Date.now();
    known.add(keyOf(entry));
    requests.unshift(entry);
    if (requests.length > KEPT) known.delete(keyOf(requests.pop()));
    count(entry.status);
    if (!paused) fresh.push(entry);
    learnSession(entry.session);
    afterRequest(entry);
    schedule();
  }

  function schedule() {
    if (drawing || paused) return;
    drawing = true;
    requestAnimationFrame(() => { drawing = false; drawFresh(); });
  }

  function filters() {
    const statuses = $('#filter-status').value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    return {
      session: $('#filter-session').value,
      method: $('#filter-method').value,
      path: $('#filter-path').value.trim().toLowerCase(),
      statuses,
      fault: $('#filter-fault').checked,
      override: $('#filter-override').checked,
      violations: $('#filter-violations').checked,
    };
  }

  function statusMatches(status, wanted) {
    if (!wanted.length) return true;
    const text = String(status);
    return wanted.some((w) => (/^[1-5]xx$/.test(w) ? text[0] === w[0] : w === text || (w === 'none' && !status)));
  }

  function matches(entry, f) {
    return (!f.session || entry.session === f.session)
      && (!f.method || entry.method === f.method)
      && (!f.path || `${entry.path}?${entry.query}`.toLowerCase().includes(f.path))
      && statusMatches(entry.status, f.statuses)
      && (!f.fault || entry.fault)
      && (!f.override || entry.override)
      && (!f.violations || (entry.violations && entry.violations.length));
  }

  function timeOf(entry) {
    if (!entry.seenAt) return entry.time.slice(11, 19);
    const at = new Date(entry.seenAt);
    return `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, '0')}`;
  }

  function flags(entry) {
    const chips = [];
    if (entry.fault) chips.push(h('span', { class: 'chip fault' }, entry.fault));
    if (entry.override) chips.push(h('span', { class: 'chip override' }, `override ${entry.override}`));
    if (entry.off_contract) chips.push(h('span', { class: 'chip violation' }, 'off contract'));
    if (entry.violations && entry.violations.length) {
      chips.push(h('span', { class: 'chip violation' }, `${entry.violations.length} violation` +
        (entry.violations.length > 1 ? 's' : '')));
    }
    if (entry.answer === null) chips.push(h('span', { class: 'chip' }, 'no answer'));
    return chips;
  }

  function row(entry) {
    return h('tr', { dataset: { uid: entry.uid }, class: entry.uid === selected ? 'selected' : null },
      h('td', { title: `by the server's clock: ${entry.time}` }, timeOf(entry)),
      h('td', {}, entry.session),
      h('td', { class: entry.method }, entry.method),
      h('td', { class: 'path' }, entry.path + (entry.query ? `?${entry.query}` : '')),
      h('td', { class: `status ${statusClass(entry.status)}` }, entry.status || '—'),
      h('td', {}, entry.duration_ms.toFixed(1)),
      h('td', {}, flags(entry)));
  }

  function drawFresh() {
    const body = $('#requests tbody');
    const f = filters();
    const rows = fresh.splice(0).filter((entry) => matches(entry, f)).reverse().map(row);
    body.prepend(...rows);
    while (body.children.length > SHOWN) body.lastElementChild.remove();
    drawCounts();
  }

  function drawAll() {
    fresh.length = 0;
    const f = filters();
    const rows = [];
    for (const entry of requests) {
      if (rows.length >= SHOWN) break;
      if (matches(entry, f)) rows.push(row(entry));
    }
    $('#requests tbody').replaceChildren(...rows);
    drawCounts();
  }

  function drawCounts() {
    const shown = $('#requests tbody').children.length;
    $('#empty').hidden = requests.length > 0;
    $('#counts').textContent = `${shown} shown of ${requests.length}${paused ? ' (paused)' : ''}`;
  }

  // ---- one request, opened ---------------------------------------------------------------------------------------

  function openRequest(entry) {
    selected = entry.uid;
    for (const tr of document.querySelectorAll('#requests tr.selected')) tr.classList.remove('selected');
    const tr = document.querySelector(`#requests tr[data-uid="${entry.uid}"]`);
    if (tr) tr.classList.add('selected');
    const target = entry.path + (entry.query ? `?${entry.query}` : '');
    const parts = [
      h('h2', {}, `${entry.method} ${target}`),
      h('div', { class: 'meta' }, `session ${entry.session} · #${entry.seq} · ${entry.duration_ms.toFixed(2)} ms · ` +
        `${entry.time} by the server's clock`, ' ', flags(entry)),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', id: 'copy-curl', onclick: () => copy('curl', asCurl(entry)) }, 'copy as curl'),
        h('button', { type: 'button', id: 'copy-fetch', onclick: () => copy('fetch', asFetch(entry)) }, 'copy as fetch'),
        SERVER === 'serve' ? h('button', { type: 'button', id: 'copy-override',
          onclick: () => copyOverride(entry) }, 'copy as override') : null),
      h('pre', { id: 'copied', hidden: true }),
      h('h3', {}, 'Request'),
      headerList(entry.headers),
      entry.body ? h('pre', { class: 'request-body' }, pretty(entry.body)) : h('p', { class: 'muted' }, 'no body'),
      entry.cut && entry.cut.length ? h('p', { class: 'muted' }, `The journal kept this request's ` +
        `${entry.cut.join(' and ')} cut short.`) : null,
      h('h3', {}, `Answer ${entry.status || ''}`),
      answerPart(entry),
      h('h3', {}, SERVER === 'proxy' ? 'Violations' : 'Contract'),
      SERVER === 'proxy' ? violationsPart(entry.violations) : h('div', { class: 'verdict', id: 'verdict' }),
    ];
    fill($('#detail'), ...parts);
    if (SERVER === 'serve') judge(entry);
  }

  function answerPart(entry) {
    const answer = entry.answer;
    if (answer === undefined) {
      return h('p', { class: 'muted' }, 'Answered before this page opened: the journal keeps requests, not answers.');
    }
    if (answer === null) {
      return h('p', { class: 'muted' }, 'Nothing was answered: the connection was closed (a reset fault, or the ' +
        'client left).');
    }
    return [
      headerList(answer.headers),
      answer.body ? h('pre', { class: 'answer-body' }, pretty(answer.body)) : h('p', { class: 'muted' }, 'no body'),
      answer.body_cut ? h('p', { class: 'muted' }, 'The body is cut: the page is sent its first bytes only ' +
        '(--journal-body-bytes).') : null,
    ];
  }

  function violationsPart(violations) {
    if (!violations) return h('p', { class: 'muted' }, 'Not known: forwarded before this page opened.');
    if (!violations.length) return h('p', { class: 'verdict ok' }, 'Both sides keep to the contract.');
    return violations.map((v) => h('div', { class: 'verdict bad' },
      h('b', {}, `${v.side === 'request' ? 'The request' : 'The answer'} breaks the contract` +
        (v.operation ? ` (${v.operation})` : '')),
      problemList(v.problems),
      v.more_problems ? h('p', {}, `and ${v.more_problems} more`) : null));
  }

  async function judge(entry) {
    const box = $('#verdict');
    const answer = entry.answer;
    if (!answer) {
      fill(box, h('p', { class: 'muted' }, 'No answer to check.'));
      return;
    }
    if (answer.body_cut) {
      fill(box, h('p', { class: 'muted' }, 'Not checked: the page has only the first bytes of the body.'));
      return;
    }
    fill(box, h('p', { class: 'muted' }, 'checking…'));
    const result = await call('POST', '/__mockhub/ui/verdict', {
      method: entry.method, path: entry.path, status: answer.status, headers: answer.headers, body: answer.body,
    });
    if (selected !== entry.uid) return;
    if (!result.ok) {
      fill(box, h('p', { class: 'error' }, result.error));
      return;
    }
    const verdict = result.data;
    const said = `${verdict.operation ? `${verdict.operation}: ` : ''}the contract declares ${verdict.expected}.`;
    fill(box, verdict.problems.length
      ? h('div', { class: 'verdict bad' }, h('b', {}, `Breaks the contract. ${said}`),
        problemList(verdict.problems),
        verdict.more_problems ? h('p', {}, `and ${verdict.more_problems} more`) : null)
      : h('p', { class: 'verdict ok' }, `Keeps to the contract. ${said}`));
  }

  // ---- copying -----------------------------------------------------------------------------------------------------

  function masked(value) { return value.includes('****'); }

  function urlOf(entry) {
    return location.origin + encodeURI(entry.path) + (entry.query ? `?${entry.query}` : '');
  }

  function copiedHeaders(entry) {
    return Object.entries(entry.headers || {}).filter(([name]) => !NOT_COPIED.has(name.toLowerCase()));
  }

  const SECRET_NOTE = 'the journal masks secrets (****): put the real ones in';

  function shellQuoted(text) { return `'${text.replace(/'/g, "'\\''")}'`; }

  function asCurl(entry) {
    let secrets = false;
    const lines = [`curl -X ${entry.method} ${shellQuoted(urlOf(entry))}`];
    for (const [name, value] of copiedHeaders(entry)) {
      if (masked(value) && /^bearer /i.test(value)) {
        secrets = true;
        lines.push(`  -H "${name}: Bearer $TOKEN"`);
      } else {
        secrets = secrets || masked(value);
        lines.push(`  -H ${shellQuoted(`${name}: ${value}`)}`);
      }
    }
    if (entry.body) {
      secrets = secrets || masked(entry.body);
      lines.push(`  --data-raw ${shellQuoted(entry.body)}`);
    }
    const text = lines.join(' \\\n');
    return secrets ? `# ${SECRET_NOTE} (TOKEN: the bearer token)\n${text}` : text;
  }

  function asFetch(entry) {
    let secrets = false;
    const headers = {};
    for (const [name, value] of copiedHeaders(entry)) {
      secrets = secrets || masked(value);
      headers[name] = masked(value) && /^bearer /i.test(value) ? '\u0000TOKEN\u0000' : value;
    }
    const init = { method: entry.method, headers };
    if (entry.body) {
      secrets = secrets || masked(entry.body);
      init.body = entry.body;
    }
    const code = `const answer = await fetch(${JSON.stringify(urlOf(entry))}, ${JSON.stringify(init, null, 2)});`
      .replace('"\\u0000TOKEN\\u0000"', '`Bearer ${TOKEN}`');
    return secrets ? `// ${SECRET_NOTE}\nconst TOKEN = "";\n${code}` : code;
  }

  function asOverride(entry) {
    const answer = entry.answer;
    const response = { status: answer ? answer.status : entry.status };
    const body = answer ? parsed(answer.body) : undefined;
    if (body !== undefined) response.body = body;
    return JSON.stringify({ method: entry.method, path: entry.path, response }, null, 2);
  }

  function copy(kind, text) {
    const shown = $('#copied');
    shown.hidden = false;
    shown.textContent = text;
    shown.dataset.kind = kind;
    const said = (how) => { shown.title = how; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => said(`copied as ${kind}`),
        () => said('the browser kept the clipboard closed: copy it from here'));
    } else {
      said('no clipboard here: copy it from here');
    }
  }

  function copyOverride(entry) {
    const text = asOverride(entry);
    copy('override', text);
    $('#override-json').value = text;
  }

  // ---- the chart ---------------------------------------------------------------------------------------------------

  const buckets = new Map(); // second -> counts by status class

  function count(status) {
    const second = Math.floor(Date.now() / 1000);
    let bucket = buckets.get(second);
    if (!bucket) {
      bucket = { c2: 0, c3: 0, c4: 0, c5: 0, c0: 0 };
      buckets.set(second, bucket);
    }
    const group = status >= 200 && status < 600 ? `c${Math.floor(status / 100)}` : 'c0';
    bucket[group in bucket ? group : 'c2'] += 1;
  }

  function drawChart() {
    const now = Math.floor(Date.now() / 1000);
    for (const second of buckets.keys()) if (second <= now - CHART_SECONDS) buckets.delete(second);
    let top = 1;
    for (const bucket of buckets.values()) {
      top = Math.max(top, bucket.c2 + bucket.c3 + bucket.c4 + bucket.c5 + bucket.c0);
    }
    const width = 600 / CHART_SECONDS;
    const height = 104;
    const shapes = [svg('line', { x1: 0, y1: 106, x2: 600, y2: 106 })];
    for (const [second, bucket] of buckets) {
      const x = (CHART_SECONDS - 1 - (now - second)) * width;
      let y = 106;
      for (const group of ['c2', 'c3', 'c4', 'c5', 'c0']) {
        if (!bucket[group]) continue;
        const tall = (bucket[group] / top) * height;
        y -= tall;
        shapes.push(svg('rect', { class: group, x: x.toFixed(1), y: y.toFixed(1), width: Math.max(width - 0.3, 0.5),
          height: tall.toFixed(1) }));
      }
    }
    shapes.push(svg('text', { x: 2, y: 10, text: `${top}/s` }), svg('text', { x: 2, y: 118, text: '-5 min' }),
      svg('text', { x: 575, y: 118, text: 'now' }));
    fill($('#chart'), ...shapes);
    let recent = 0;
    for (let second = now - 4; second <= now; second += 1) {
      const bucket = buckets.get(second);
      if (bucket) recent += bucket.c2 + bucket.c3 + bucket.c4 + bucket.c5 + bucket.c0;
    }
    $('#rate').textContent = `${(recent / 5).toFixed(1)}/s over the last 5 s`;
  }

  // ---- the stream --------------------------------------------------------------------------------------------------

  const live = { controller: null, retry: 0, timer: null, dropped: 0 };

  function setLive(text, state) {
    const badge = $('#live');
    badge.textContent = text;
    badge.className = `live ${state}`;
  }

  async function connect() {
    clearTimeout(live.timer);
    if (live.controller) live.controller.abort();
    const controller = new AbortController();
    live.controller = controller;
    live.bye = false;
    setLive('connecting', 'off');
    let response;
    try {
      response = await fetch('/__mockhub/ui/stream', { headers: withToken({ Accept: 'text/event-stream' }),
        credentials: 'omit', cache: 'no-store', signal: controller.signal });
    } catch (_) {
      if (!controller.signal.aborted) reconnect('the server did not answer');
      return;
    }
    if (!response.ok) {
      const text = await response.text();
      let why = text;
      try { why = JSON.parse(text).error; } catch (_) { /* text as it came */ }
      if (response.status === 401) {
        askForToken(`401: ${why}`);
        setLive('needs the admin token', 'off');
      } else {
        reconnect(`${response.status}: ${why}`);
      }
      return;
    }
    live.retry = 0;
    setLive('live', 'on');
    loadHistory();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (_) {
      if (controller.signal.aborted) return;
    }
    if (!controller.signal.aborted) reconnect(live.bye ? 'the server stopped' : 'the stream ended');
  }

  function reconnect(why) {
    const wait = Math.min(10000, 1000 * 2 ** live.retry);
    live.retry = Math.min(live.retry + 1, 4);
    setLive(`${why}; trying again in ${Math.round(wait / 1000)} s`, 'off');
    live.timer = setTimeout(connect, wait);
  }

  function dispatch(block) {
    let name = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data += (data ? '\n' : '') + value;
    }
    if (!data) return;
    const payload = JSON.parse(data);
    if (name === 'request') {
      received(payload);
    } else if (name === 'dropped') {
      live.dropped += payload.dropped;
      notice(`${live.dropped} requests were not shown: this page took them in more slowly than they came ` +
        '(the server keeps --dashboard-queue-bytes of them for it).');
    } else if (name === 'bye') {
      live.bye = true;
      setLive('the server is stopping', 'off');
    }
  }

  async function loadHistory() {
    const names = SERVER === 'serve' ? (await loadSessions()).slice(0, HISTORY_SESSIONS) : [null];
    const older = [];
    for (const name of names) {
      const path = name === null ? '/__mockhub/requests?limit=1000' : withSession('/__mockhub/requests?limit=1000', name);
      const result = await call('GET', path);
      if (!result.ok || !Array.isArray(result.data)) continue;
      for (const entry of result.data) if (!known.has(keyOf(entry))) older.push(entry);
    }
    older.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : b.seq - a.seq));
    for (const entry of older) {
      if (requests.length >= KEPT) break;
      entry.uid = ++uid;
      known.add(keyOf(entry));
      requests.push(entry);
      learnSession(entry.session);
    }
    if (older.length) drawAll();
  }

  // ---- sessions, their state, fault rules, overrides, deliveries (serve) --------------------------------------------

  const sessionNames = new Set(['default']);
  let current = 'default';
  const pending = new Map(); // what is to be loaded again soon, by name

  function soon(name, load, delay = 300) {
    if (pending.has(name)) return;
    pending.set(name, setTimeout(() => { pending.delete(name); load(); }, delay));
  }

  function learnSession(name) {
    if (sessionNames.has(name)) return;
    sessionNames.add(name);
    for (const select of [$('#filter-session'), $('#current-session')]) select.append(h('option', {}, name));
    if (SERVER === 'serve') soon('sessions', loadSessions, 500);
  }

  function afterRequest(entry) {
    if (SERVER === 'proxy') {
      if (entry.violations && entry.violations.length) soon('violations', loadViolations, 500);
      return;
    }
    if (entry.session !== current) return;
    soon('rules', () => {
      loadFaults();
      loadOverrides();
      if (deliveriesServed) loadDeliveries();
    });
    if (entry.method !== 'GET' && entry.status < 400) soon('state', loadState, 600);
  }

  async function loadSessions() {
    const result = await call('GET', '/__mockhub/sessions');
    const box = $('#sessions');
    if (!result.ok) {
      fill(box, h('p', { class: 'error' }, result.error));
      return [];
    }
    fill(box, ...result.data.map((session) => h('div', { class: 'session-row' },
      h('span', { class: `name${session.name === current ? ' current' : ''}`, title: 'show this session',
        onclick: () => choose(session.name) }, session.name),
      h('span', { class: 'numbers' }, `${session.requests} requests · ${session.faults} fault rules · ` +
        `${session.overrides} overrides · idle ${Math.round(session.idle_seconds)} s`),
      h('button', { type: 'button', onclick: () => resetSession(session.name) }, 'reset'),
      session.name === 'default' ? null
        : h('button', { type: 'button', class: 'danger', onclick: () => dropSession(session.name) }, 'drop'))));
    for (const session of result.data) learnSession(session.name);
    return result.data.map((session) => session.name);
  }

  async function resetSession(name) {
    const result = await call('POST', withSession('/__mockhub/reset', name));
    if (!result.ok) notice(result.error);
    await loadSessions();
    if (name === current) loadSession();
  }

  async function dropSession(name) {
    const result = await call('DELETE', `/__mockhub/sessions/${encodeURIComponent(name)}`);
    if (!result.ok) notice(result.error);
    if (name === current) choose('default');
    await loadSessions();
  }

  function choose(name) {
    current = name;
    $('#current-session').value = name;
    for (const element of document.querySelectorAll('#sessions .name')) {
      element.classList.toggle('current', element.textContent === name);
    }
    loadSession();
  }

  function loadSession() {
    loadRules();
    loadState();
  }

  function loadRules() {
    loadFaults();
    loadOverrides();
    loadDeliveries();
  }

  function removeButton(path, reload) {
    return h('button', { type: 'button', class: 'danger', onclick: async () => {
      const result = await call('DELETE', withSession(path, current));
      if (!result.ok) notice(result.error);
      reload();
    } }, 'remove');
  }

  function faultEffect(rule) {
    if (rule.status) return `→ ${rule.status}`;
    if (rule.fault) return `→ ${rule.fault}`;
    if (rule.sequence) return `→ ${rule.sequence.join(', ')}`;
    if (rule.rate_limit) return `→ 429 past ${rule.rate_limit.requests} per ${rule.rate_limit.per_seconds} s`;
    return '';
  }

  // A list of the control API in a box: the error as the API says it, a line when the list is empty, else an
  // element for each item.
  async function loadList(path, box, empty, render) {
    const result = await call('GET', path);
    if (!result.ok) fill(box, h('p', { class: 'error' }, result.error));
    else if (!result.data.length) fill(box, h('p', { class: 'muted' }, empty));
    else fill(box, result.data.map(render));
  }

  function loadFaults() {
    return loadList(withSession('/__mockhub/faults', current), $('#faults'), 'No fault rule in this session.',
      (rule) => h('div', { class: `card fault${rule.ended ? ' ended' : ''}`, dataset: { rule: rule.id } },
        removeButton(`/__mockhub/faults/${encodeURIComponent(rule.id)}`, loadFaults),
        h('b', {}, rule.id), ' ',
        h('span', { class: 'what' }, `${rule.method || 'any method'} ${rule.path || 'any path'} ${faultEffect(rule)}` +
          (rule.delay_ms ? ` after ${rule.delay_ms} ms` : '') + (rule.probability !== undefined ?
          ` with probability ${rule.probability}` : '')),
        h('div', { class: 'count' }, 'fired ', h('b', { class: 'fired' }, rule.fired), ` of ${rule.matched} matching` +
          (rule.remaining !== undefined ? ` · ${rule.remaining} left` : '') + (rule.ended ? ' · ended' : ''))));
  }

  function loadOverrides() {
    return loadList(withSession('/__mockhub/overrides', current), $('#overrides'), 'No override in this session.',
      (override) => h('div', { class: 'card', dataset: { override: override.id } },
        removeButton(`/__mockhub/overrides/${encodeURIComponent(override.id)}`, loadOverrides),
        h('b', {}, override.id), ' ',
        h('span', { class: 'what' }, `${override.method} ${override.path} → ` +
          (override.response.merge ? 'merged' : String(override.response.status || 200)) +
          (override.off_contract ? ' (off contract)' : '')),
        h('div', { class: 'count' }, 'served ', h('b', { class: 'served' }, override.state.served),
          override.state.remaining !== undefined ? ` · ${override.state.remaining} left` : '')));
  }

  function deliverySummary(item) {
    // a record of the delivery log: what happened (an attempt, refused, websocket, tenant-notified, dropped),
    // to which URL, and how the receiver answered
    const attempt = item.kind === 'attempt' ? `attempt ${item.attempt}` : item.kind;
    const answered = item.status !== undefined && item.status !== null ? `→ ${item.status}`
      : (item.error ? `→ ${item.error}` : '');
    return [item.time, item.delivery, attempt, item.url || '', answered].filter(Boolean).join(' · ');
  }

  let deliveriesServed = true; // until the server says it has no deliveries to show

  async function loadDeliveries() {
    const result = await call('GET', withSession('/__mockhub/deliveries', current));
    const box = $('#deliveries');
    deliveriesServed = result.status !== 404 && result.status !== 405;
    if (!deliveriesServed) {
      fill(box, h('p', { class: 'muted' }, 'This server sends no webhooks (it has no ' +
        'GET /__mockhub/deliveries).'));
      return;
    }
    if (!result.ok) {
      fill(box, h('p', { class: 'error' }, result.error));
      return;
    }
    const data = result.data;
    const items = Array.isArray(data) ? data : [];
    if (!items.length) {
      fill(box, h('p', { class: 'muted' }, 'No webhook delivery in this session yet.'));
      return;
    }
    fill(box, ...items.slice(-200).reverse().map((item) => h('details', { class: 'delivery' },
      h('summary', {}, deliverySummary(item)), h('pre', {}, JSON.stringify(item, null, 2)))));
  }

  function table(rows, columns) {
    return h('table', { class: 'state-table' }, h('tbody', {}, rows.map((record) => h('tr', {},
      columns.map(([key, kind]) => h('td', { class: kind || null }, record[key] === undefined ? '' : record[key]))))));
  }

  async function loadState() {
    const result = await call('GET', withSession('/__mockhub/state', current));
    const box = $('#state');
    if (!result.ok) {
      fill(box, h('p', { class: 'error' }, result.error));
      return;
    }
    const state = result.data;
    const hubs = state.hubs || [];
    const integrations = state.integrations || [];
    const commands = [...(state.transferCommands || []).map((c) => ({ ...c, kind: 'transfer' })),
      ...(state.responseCommands || []).map((c) => ({ ...c, kind: 'response' }))];
    const tenants = (state.tenants || []).map((tenant) => {
      const own = hubs.filter((hub) => hub.tenantId === tenant.tenantId);
      const clients = Object.entries(tenant.clients || {}).map(([api, client]) =>
        `${api}: ${(client.secrets || []).map((s) => s.name || s.id).join(', ') || 'no secret'}`);
      return h('details', { class: 'tenant', open: true },
        h('summary', {}, h('b', {}, tenant.name || tenant.tenantId), ` · ${own.length} hubs`),
        h('p', { class: 'muted' }, `tenant ${tenant.tenantId} · tokens: ${(tenant.tokens || []).join(', ') || 'none'}`),
        h('p', {}, 'Identity clients: ', clients.length ? clients.join(' · ') : 'none'),
        own.map((hub) => {
          const its = integrations.filter((i) => i.hubId === hub.hubId);
          const cmds = commands.filter((c) => c.hubId === hub.hubId);
          return h('details', { class: 'hub' },
            h('summary', {}, hub.name, h('span', { class: 'muted' },
              ` · ${its.length} integrations · ${cmds.length} commands`)),
            h('p', { class: 'muted' }, `hub ${hub.hubId}`),
            its.length ? table(its, [['channelId'], ['name'], ['integrationId', 'id']]) : null,
            cmds.length ? table(cmds, [['kind'], ['name'], ['commandId', 'id']]) : null);
        }));
    });
    const points = state.integrationPoints || [];
    fill(box, ...tenants, h('details', { class: 'tenant' },
      h('summary', {}, h('b', {}, 'Era integration points'), ` · ${points.length}`),
      table(points, [['code'], ['type'], ['id', 'id']])));
  }

  async function addFault(event) {
    event.preventDefault();
    const error = $('#fault-error');
    error.textContent = '';
    const json = $('#fault-json').value.trim();
    let rule;
    if (json) {
      try { rule = JSON.parse(json); } catch (e) { error.textContent = `Not JSON: ${e.message}`; return; }
    } else {
      rule = {};
      if ($('#fault-method').value) rule.method = $('#fault-method').value;
      if ($('#fault-path').value.trim()) rule.path = $('#fault-path').value.trim();
      if ($('#fault-status').value) rule.status = Number($('#fault-status').value);
    }
    const result = await call('POST', withSession('/__mockhub/faults', current), rule);
    if (!result.ok) {
      error.textContent = result.error;
      return;
    }
    loadFaults();
  }

  async function addOverride(event) {
    event.preventDefault();
    const error = $('#override-error');
    error.textContent = '';
    const text = $('#override-json').value.trim();
    try { JSON.parse(text); } catch (e) { error.textContent = `Not JSON: ${e.message}`; return; }
    const result = await call('POST', withSession('/__mockhub/overrides', current), text);
    if (!result.ok) {
      error.textContent = result.error;
      return;
    }
    loadOverrides();
  }

  // ---- the proxy's violations --------------------------------------------------------------------------------------

  function loadViolations() {
    return loadList('/__mockhub/violations', $('#violations'), 'No violation: every exchange kept to the contract.',
      (v) => h('details', { class: 'delivery' },
        h('summary', {}, `${v.time} ${v.method} ${v.path} → ${v.status}: the ${v.side} breaks the contract` +
          (v.operation ? ` (${v.operation})` : '')),
        problemList(v.problems)));
  }

  // ---- wiring ------------------------------------------------------------------------------------------------------

  function start() {
    $('#server-kind').textContent = SERVER === 'proxy' ? 'proxy' : 'serve';
    $('#version').textContent = document.body.dataset.version;
    if (SERVER === 'proxy') $('#docs-link').remove();
    if (document.body.dataset.token === 'required' && !token()) $('#token-form').classList.add('wanted');
    $('#token').value = token();
    $('#token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const value = $('#token').value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
      $('#token-form').classList.remove('wanted');
      $('#notice').hidden = true;
      connect();
      if (SERVER === 'serve') loadSession(); else loadViolations();
    });
    $('#notice-close').addEventListener('click', () => { $('#notice').hidden = true; });
    $('#filters').addEventListener('input', drawAll);
    $('#filters').addEventListener('submit', (event) => event.preventDefault());
    $('#pause').addEventListener('click', () => {
      paused = !paused;
      $('#pause').textContent = paused ? 'resume' : 'pause';
      if (paused) drawCounts(); else drawAll();
    });
    $('#clear-list').addEventListener('click', () => {
      requests.length = 0;
      drawAll();
      fill($('#detail'), h('p', { class: 'muted' }, 'Open a request to see it and its answer as they were sent.'));
    });
    $('#requests tbody').addEventListener('click', (event) => {
      const tr = event.target.closest('tr');
      if (!tr) return;
      const entry = requests.find((candidate) => candidate.uid === Number(tr.dataset.uid));
      if (entry) openRequest(entry);
    });
    if (SERVER === 'serve') {
      $('#current-session').addEventListener('change', () => choose($('#current-session').value));
      $('#sessions-refresh').addEventListener('click', loadSessions);
      $('#session-refresh').addEventListener('click', loadSession);
      $('#fault-form').addEventListener('submit', addFault);
      $('#override-form').addEventListener('submit', addOverride);
      loadSession();
    } else {
      $('#violations-refresh').addEventListener('click', loadViolations);
      $('#violations-clear').addEventListener('click', async () => {
        const result = await call('DELETE', '/__mockhub/violations');
        if (!result.ok) notice(result.error);
        loadViolations();
      });
      loadViolations();
    }
    drawCounts();
    drawChart();
    setInterval(drawChart, 1000);
    setInterval(() => { if (SERVER === 'serve') loadSessions(); }, 10000);
    // deliveries go on after the request that started them (retries, minutes apart): read the log again now and then
    setInterval(() => { if (SERVER === 'serve' && deliveriesServed && !document.hidden) loadDeliveries(); }, 2000);
    connect();
  }

  start();
})();
