// The status page's script: plain browser JavaScript, no build step. Every
// 2 s it reads /status.json (the shape of `status --json`) and the samples
// taken since its last read from /history.json, and draws them with uPlot
// (served from the package as /uplot.js). Text from the server goes in as
// textContent only: a table name or an error message is never markup. One
// page for `start` and `relay`: /history.json says which run it is (run.kind)
// and what its charts are, so a relay's figures read "published", never
// "applied".
'use strict';
(() => {
  const POLL_MS = 2000;
  const HOUR_MS = 3600 * 1000;
  const MARK_COLOURS = { reconnect: '#d4a72c', error: '#cf222e' };
  // The charts' colours in the order /history.json lists them: lag, the two rates, the level.
  const COLOURS = ['#0969da', '#1a7f37', '#8250df', '#bc4c00'];
  const CAPABILITIES = {
    binlogStatements: "row events by the replica's own row code (BINLOG statements)",
    loadData: 'large inserts as LOAD DATA LOCAL INFILE',
    decodeThread: 'binlog decoded on a worker thread',
  };

  // Filled with a column per chart once /history.json has said what they are.
  const series = { t: [] };
  let marks = [];
  let since = 0;
  let threshold = 5;
  let lastAnswer = null;
  const charts = new Map();

  const $ = (id) => document.getElementById(id);
  const time = (ms) => new Date(ms).toLocaleTimeString();
  const ago = (ms) => {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  };

  /** Reconnects and errors as vertical lines across every chart, at their time. */
  const drawMarks = (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.lineWidth = 2 * window.devicePixelRatio;
    for (const m of marks) {
      const x = u.valToPos(m.t / 1000, 'x', true);
      if (!(x >= bbox.left && x <= bbox.left + bbox.width)) continue;
      ctx.strokeStyle = MARK_COLOURS[m.kind] || MARK_COLOURS.error;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  };

  /** The lag threshold as a dashed line: above it the state is LAGGING. */
  const drawThreshold = (u) => {
    const { ctx, bbox } = u;
    const y = u.valToPos(threshold, 'y', true);
    if (!(y >= bbox.top && y <= bbox.top + bbox.height)) return;
    ctx.save();
    ctx.strokeStyle = '#bc4c00';
    ctx.setLineDash([6 * window.devicePixelRatio, 4 * window.devicePixelRatio]);
    ctx.lineWidth = window.devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.restore();
  };

  /** A figure for each chart /history.json lists (made once, at its first answer). */
  function makeCharts(specs) {
    const section = $('charts');
    specs.forEach((spec, i) => {
      const figure = document.createElement('figure');
      const caption = document.createElement('figcaption');
      caption.textContent = `${spec.title} `;
      if (spec.key === 'lag') {
        const note = document.createElement('span');
        note.className = 'muted';
        note.id = 'threshold';
        caption.append(note);
      }
      const box = document.createElement('div');
      box.className = 'chart';
      box.id = `chart-${spec.id}`;
      figure.append(caption, box);
      section.append(figure);
      series[spec.key] = [];
      makeChart({ ...spec, colour: COLOURS[i % COLOURS.length] }, box);
    });
  }

  function makeChart(spec, box) {
    const isLag = spec.key === 'lag';
    const chart = new uPlot(
      {
        width: Math.max(300, box.clientWidth),
        height: 200,
        scales: {
          x: { time: true },
          // From 0, and for lag at least up to the threshold, so a flat line reads as "well below it".
          y: { range: (_u, _min, max) => [0, Math.max(max || 0, isLag ? threshold * 1.25 : 1) * 1.05] },
        },
        series: [{}, { label: spec.label, stroke: spec.colour, width: 2, fill: `${spec.colour}22`, points: { show: false } }],
        axes: [{}, { size: 60 }],
        hooks: {
          draw: [
            (u) => {
              if (isLag) drawThreshold(u);
              drawMarks(u);
              // For whoever checks the page drew (a person sees the line): how many points it has.
              box.dataset.points = String(u.data[0].length);
            },
          ],
        },
      },
      [[], []],
      box,
    );
    charts.set(spec.key, { chart, box });
  }

  function append(history) {
    if (charts.size === 0) makeCharts(history.charts);
    const s = history.series;
    for (const key of Object.keys(series)) series[key].push(...(s[key] || []));
    if (s.t.length > 0) since = s.t[s.t.length - 1];
    // Keep the hour the process keeps, no more.
    let drop = 0;
    while (drop < series.t.length && series.t[drop] < history.now - HOUR_MS) drop++;
    if (drop > 0) for (const key of Object.keys(series)) series[key].splice(0, drop);
    marks = history.marks;
    threshold = history.lagThresholdSeconds;
  }

  function drawCharts() {
    const xs = series.t.map((t) => t / 1000);
    for (const [key, { chart }] of charts) chart.setData([xs, series[key]]);
  }

  function fact(dl, name, value) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.dataset.fact = name;
    dl.append(dt, dd);
  }

  const position = (p) => (p ? `${p.file}:${p.position}${p.gtid ? ` (GTID ${p.gtid})` : ''}` : 'none yet');

  /** A relay's: where it reads, the stream it keeps, how far it has published. */
  function renderRelayFacts(dl, status, run, extra) {
    const runner = status.runner;
    fact(dl, 'Source', `${run.source}${runner && !runner.sourceConnected ? ' (not connected: reconnecting)' : ''}`);
    fact(dl, 'Stream', run.stream);
    fact(dl, 'Databases', run.databases.join(', ') || 'none');
    fact(dl, 'Published position', position(status.applied));
    fact(dl, 'Last published', status.applied ? `${new Date(status.applied.appliedAt).toLocaleString()} (${ago(Date.parse(status.applied.appliedAt))})` : 'none yet');
    // The last commit's time, the stream's sequence, what was published: the relay's own figures.
    for (const [name, value] of Object.entries(extra)) fact(dl, name, value);
    fact(dl, 'Running', runner ? `pid ${runner.pid} on ${runner.hostname} since ${new Date(runner.startedAt).toLocaleString()}` : 'no');
    fact(dl, 'Reconnects', runner ? String(runner.reconnects) : '0');
  }

  function renderFacts(status, history) {
    const dl = $('facts');
    dl.replaceChildren();
    const run = history.run;
    if (run.kind === 'relay') return renderRelayFacts(dl, status, run, history.facts || {});
    const runner = status.runner;
    fact(dl, 'Source', `${run.source}${runner && !runner.sourceConnected ? ' (not connected: reconnecting)' : ''}`);
    fact(dl, 'Replica', run.replica);
    fact(dl, 'Databases', run.databases.join(', ') || 'none');
    const filters = [];
    if (run.includeTables.length) filters.push(`include ${run.includeTables.join(', ')}`);
    if (run.excludeTables.length) filters.push(`exclude ${run.excludeTables.join(', ')}`);
    for (const [from, to] of Object.entries(run.rewriteDb)) filters.push(`rewrite ${from} → ${to}`);
    fact(dl, 'Filters', filters.join('; ') || 'none: every table of the databases');
    fact(dl, 'Masking', run.mask.join(', ') || 'none');
    const caps = runner && runner.capabilities;
    if (caps) {
      const path = caps.binlogStatements ? "row events applied by the replica's own row code (BINLOG statements)" : 'row events applied as SQL statements';
      const sqlTables = runner.sqlPathTables.length ? `; as SQL statements for ${runner.sqlPathTables.join(', ')}` : '';
      fact(dl, 'Apply path', path + sqlTables);
      const lost = Object.keys(CAPABILITIES).filter((name) => caps[name] === false);
      fact(dl, 'Capabilities', `${Object.keys(CAPABILITIES).filter((name) => caps[name]).map((name) => CAPABILITIES[name]).join('; ') || 'none'}${lost.length ? `; without ${lost.join(', ')}` : ''}`);
    }
    if (runner && runner.applyMode) {
      fact(dl, 'Apply mode', runner.applyMode.kind === 'careful' ? `one transaction at a time for the next ${runner.applyMode.left} (after a failed group)` : 'in groups');
    }
    fact(dl, 'Applied position', position(status.applied));
    fact(dl, 'Source position', status.source ? `${position(status.source)} (as far as the stream has seen)` : 'not seen yet');
    fact(dl, 'Last commit', status.applied ? `${new Date(status.applied.appliedAt).toLocaleString()} (${ago(Date.parse(status.applied.appliedAt))})` : 'none yet');
    fact(dl, 'Running', runner ? `pid ${runner.pid} on ${runner.hostname} since ${new Date(runner.startedAt).toLocaleString()}` : 'no');
    fact(dl, 'Reconnects', runner ? String(runner.reconnects) : '0');
    for (const [name, value] of Object.entries(history.facts || {})) fact(dl, name, value);
  }

  function renderError(status, run) {
    const box = $('error');
    const retried = [...marks].reverse().find((m) => m.kind === 'error');
    if (status.lastError) {
      const e = status.lastError;
      $('error-message').textContent = `${e.message} [${e.code}]`;
      $('error-where').textContent = [new Date(e.at).toLocaleString(), e.file ? `at ${e.file}:${e.position}` : '', e.table ? `table ${e.table}` : '', e.statement ? `statement ${e.statement}` : '']
        .filter(Boolean)
        .join(' · ');
      $('error-fix').textContent =
        run.kind === 'relay'
          ? "the message says what to change; then start the relay again: it continues after the stream's last message (docs/relay.md)."
          : 'the message says what to change; then start binlog-sync again: it resumes from the applied position (docs/troubleshooting.md).';
      box.hidden = false;
    } else if (retried) {
      $('error-message').textContent = retried.text;
      $('error-where').textContent = `${time(retried.t)} (${ago(retried.t)})`;
      $('error-fix').textContent = 'nothing, unless it keeps coming back: binlog-sync retried it by itself (each retry is marked on the charts). If it repeats, the message says what to change (docs/troubleshooting.md).';
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }

  function renderMarks() {
    const ul = $('marks');
    ul.replaceChildren();
    if (marks.length === 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'none in the last hour';
      ul.append(li);
    }
    for (const m of [...marks].reverse().slice(0, 20)) {
      const li = document.createElement('li');
      const key = document.createElement('span');
      key.className = `key ${m.kind}`;
      key.textContent = m.kind;
      li.append(key, ` ${time(m.t)}: ${m.text}`);
      ul.append(li);
    }
  }

  function renderState(state, lag, note) {
    const box = $('state');
    box.textContent = state;
    box.className = `state ${state}`;
    box.dataset.state = state;
    $('lag').textContent = lag;
    $('updated').textContent = note;
    document.title = `${state} · ${$('title').textContent}`;
  }

  async function getJson(path) {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  async function poll() {
    try {
      const [status, history] = await Promise.all([getJson('/status.json'), getJson(`/history.json?since=${since}`)]);
      lastAnswer = Date.now();
      append(history);
      if (history.run.kind === 'relay') $('title').textContent = 'binlog-sync relay';
      const lag = status.lagSeconds === null ? 'lag unknown' : `lag ${status.lagSeconds.toFixed(1)} s`;
      renderState(status.state, lag, `threshold ${status.lagThresholdSeconds} s · updated ${time(lastAnswer)}`);
      $('threshold').textContent = `(dashed: the ${status.lagThresholdSeconds} s threshold)`;
      renderFacts(status, history);
      renderError(status, history.run);
      renderMarks();
      drawCharts();
    } catch {
      // The process that serves this page has stopped (or cannot be reached): say so, keep what was drawn.
      renderState('STOPPED', 'lag unknown', lastAnswer ? `no answer from binlog-sync since ${time(lastAnswer)}` : 'no answer from binlog-sync');
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  window.addEventListener('resize', () => {
    for (const { chart, box } of charts.values()) chart.setSize({ width: Math.max(300, box.clientWidth), height: 200 });
  });
  void poll();
})();
