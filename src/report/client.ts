/**
 * The report page's script (plain browser JavaScript, inlined into index.html after the bundled plotting library).
 * It reads the inline JSON data element, renders the figures with vega-embed, wires the overlap chooser and runs the
 * neuron explorer. It only ever writes user data through `textContent` and DOM properties, never `innerHTML`.
 * Figures are drawn one after another in page order, yielding in between; when every initial figure has settled
 * it sets `document.body.dataset.ready = '1'` (the browser test waits on it).
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('report-data').textContent);
  var EMBED = { renderer: DATA.renderer || 'svg', actions: { export: true, source: false, compiled: false, editor: false }, tooltip: { theme: 'light' } };
  var NEG = '211,95,95', POS = '0,170,212';
  var views = {};

  function clone(x) { return JSON.parse(JSON.stringify(x)); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /** Embed spec into the element with this id; replaces (and finalizes) what was there. */
  function embed(id, spec) {
    var node = document.getElementById(id);
    if (!node) return Promise.resolve(null);
    if (views[id]) { views[id].finalize(); views[id] = null; }
    node.dataset.rendered = '0';
    if (!spec) {
      clear(node);
      node.appendChild(el('p', 'empty', node.dataset.empty || 'Nothing to show.'));
      node.dataset.rendered = 'empty';
      return Promise.resolve(null);
    }
    return vegaEmbed(node, spec, EMBED).then(function (res) {
      views[id] = res;
      node.dataset.rendered = '1';
      return res;
    }).catch(function (err) {
      node.dataset.rendered = 'error';
      clear(node);
      node.appendChild(el('p', 'error', 'This figure could not be drawn: ' + (err && err.message)));
      console.error(err);
      return null;
    });
  }

  // Figures are drawn one at a time, yielding to the browser in between, so the tables paint first and the page
  // stays responsive while a large study renders.
  var queue = [];
  function later(fn) { queue.push(fn); }
  function drain() {
    if (!queue.length) { document.body.dataset.ready = '1'; return; }
    var fn = queue.shift();
    setTimeout(function () { Promise.resolve(fn()).then(drain, drain); }, 0);
  }

  // ---- static figures ----
  Object.keys(DATA.specs).forEach(function (key) {
    if (key === 'ablation') return;
    later(function () { return embed('plot-' + key, DATA.specs[key]); });
  });

  // ---- overlap chooser ----
  var ovSel = document.getElementById('overlap-select');
  if (ovSel) {
    DATA.overlap.forEach(function (o, i) { ovSel.appendChild(new Option(o.model + ' · ' + o.task, String(i))); });
    ovSel.addEventListener('change', function () { embed('plot-overlap', DATA.overlap[Number(ovSel.value)].spec); });
    later(function () { return embed('plot-overlap', DATA.overlap.length ? DATA.overlap[0].spec : null); });
  }
  if (DATA.specs.ablation !== undefined) later(function () { return embed('plot-ablation', DATA.specs.ablation); });

  // ---- neuron explorer ----
  var ex = DATA.explorer;
  var mSel = document.getElementById('ex-model'), tSel = document.getElementById('ex-task'), nSel = document.getElementById('ex-neuron');
  var state = { pair: null, view: null };

  function findPair() {
    for (var i = 0; i < ex.pairs.length; i++) {
      if (ex.pairs[i].model === mSel.value && ex.pairs[i].task === tSel.value) return ex.pairs[i];
    }
    return null;
  }
  function viewById(id) {
    var vs = state.pair ? state.pair.views : [];
    for (var i = 0; i < vs.length; i++) if (vs[i].id === id) return vs[i];
    return null;
  }
  function neuronName(v) { return 'L' + v.layer + ':U' + v.unit; }

  function setPair() {
    state.pair = findPair();
    clear(nSel);
    var list = document.getElementById('ex-list');
    clear(list);
    var vs = state.pair ? state.pair.views.slice().sort(function (a, b) { return a.rank - b.rank; }) : [];
    vs.forEach(function (v) {
      nSel.appendChild(new Option('#' + (v.rank + 1) + '  ' + neuronName(v) + '  (id ' + v.id + ')', String(v.id)));
      var li = el('li');
      var b = el('button', 'neuron-btn', '#' + (v.rank + 1) + ' ' + neuronName(v));
      b.type = 'button';
      b.dataset.id = String(v.id);
      b.addEventListener('click', function () { selectNeuron(v.id); });
      li.appendChild(b);
      list.appendChild(li);
    });
    nSel.disabled = vs.length === 0;
    document.getElementById('ex-empty').hidden = vs.length > 0;
    document.getElementById('ex-body').hidden = vs.length === 0;
    if (vs.length) return selectNeuron(vs[0].id);
    state.view = null;
    return Promise.resolve();
  }

  function selectNeuron(id) {
    var v = viewById(id);
    if (!v) return Promise.resolve();
    state.view = v;
    nSel.value = String(id);
    var btns = document.querySelectorAll('#ex-list .neuron-btn');
    for (var i = 0; i < btns.length; i++) {
      if (btns[i].dataset.id === String(id)) btns[i].setAttribute('aria-current', 'true'); else btns[i].removeAttribute('aria-current');
    }
    document.getElementById('ex-title').textContent = 'Neuron ' + neuronName(v) + '  (id ' + v.id + ', rank ' + (v.rank + 1) + ')';
    renderFacts(v);
    renderWords(v);
    renderSentences(v);
    return Promise.all([renderWeights(v), renderStrip()]);
  }

  function renderFacts(v) {
    var tags = state.pair.tagsOf[String(v.id)] || [];
    var inMin = state.pair.inMinimal.indexOf(v.id) >= 0;
    document.getElementById('ex-facts').textContent =
      (inMin ? 'In the minimal subset. ' : 'Not in the minimal subset. ') +
      (tags.length ? 'Top neuron for: ' + tags.join(', ') + '.' : 'Not among any tag\'s top neurons.') +
      (state.pair.explanations && state.pair.explanations[String(v.id)]
        ? ' Explanation: ' + state.pair.explanations[String(v.id)].formula + ' (IoU ' + state.pair.explanations[String(v.id)].iou.toFixed(3) + ').'
        : '');
  }

  function renderWords(v) {
    var ol = document.getElementById('ex-words');
    clear(ol);
    if (!v.topWords.length) { ol.appendChild(el('li', 'empty', 'no top words')); return; }
    v.topWords.forEach(function (w) {
      var li = el('li');
      li.appendChild(el('span', 'word', w.word));
      var bar = el('span', 'bar');
      bar.style.width = Math.max(2, Math.round(100 * Math.max(0, Math.min(1, w.score)))) + 'px';
      li.appendChild(bar);
      li.appendChild(el('span', 'score', w.score.toFixed(3)));
      ol.appendChild(li);
    });
  }

  var tip = document.getElementById('act-tip');
  function showTip(ev) {
    var t = ev.target;
    if (!t || !t.dataset || t.dataset.act === undefined) return;
    tip.textContent = t.textContent + ': ' + Number(t.dataset.act).toFixed(3) + '  (|a|/max = ' + Number(t.dataset.rel).toFixed(2) + ')';
    tip.hidden = false;
    var r = t.getBoundingClientRect();
    tip.style.left = Math.round(r.left + window.scrollX) + 'px';
    tip.style.top = Math.round(r.bottom + window.scrollY + 4) + 'px';
  }
  function hideTip() { tip.hidden = true; }

  function renderSentences(v) {
    var box = document.getElementById('ex-sentences');
    clear(box);
    if (!v.topSentences.length) { box.appendChild(el('p', 'empty', 'no sentences')); return; }
    v.topSentences.forEach(function (s) {
      var max = 0;
      s.acts.forEach(function (a) { max = Math.max(max, Math.abs(a)); });
      var p = el('p', 'sentence');
      p.appendChild(el('span', 'sid', '#' + s.sentence));
      s.words.forEach(function (w, i) {
        var a = s.acts[i] === undefined || s.acts[i] === null ? 0 : s.acts[i];
        var rel = max > 0 ? Math.abs(a) / max : 0;
        var span = el('span', rel > 0.65 ? 'tok strong' : 'tok', w);
        span.style.backgroundColor = 'rgba(' + (a < 0 ? NEG : POS) + ',' + rel.toFixed(3) + ')';
        span.dataset.act = String(a);
        span.dataset.rel = String(rel);
        span.title = w + ': ' + Number(a).toFixed(3);
        span.tabIndex = 0;
        p.appendChild(span);
        p.appendChild(document.createTextNode(' '));
      });
      box.appendChild(p);
    });
  }

  // Long label sets (49 deprel labels, 50 xpos tags) show the TOP_TAGS tags of largest |weight| unless "show all".
  var TOP_TAGS = 30, showAllTags = false;
  var allBtn = document.getElementById('ex-weights-all');
  if (allBtn) allBtn.addEventListener('click', function () {
    showAllTags = !showAllTags;
    if (state.view) renderWeights(state.view);
  });
  function renderWeights(v) {
    var spec = clone(ex.templates.weights);
    var rows = state.pair.labels.map(function (l) { return { label: l, weight: v.weights[l] === undefined ? 0 : v.weights[l] }; });
    var many = rows.length > TOP_TAGS + 10;
    if (many && !showAllTags) {
      rows = rows.slice().sort(function (a, b) { return Math.abs(b.weight) - Math.abs(a.weight) || (a.label < b.label ? -1 : 1); }).slice(0, TOP_TAGS);
    }
    if (allBtn) {
      allBtn.hidden = !many;
      allBtn.textContent = showAllTags ? 'Show the top ' + TOP_TAGS + ' tags by |weight|' : 'Show all ' + state.pair.labels.length + ' tags';
    }
    var note = document.getElementById('ex-weights-note');
    if (note) note.textContent = many && !showAllTags ? 'The ' + TOP_TAGS + ' of ' + state.pair.labels.length + ' tags with the largest |weight|.' : '';
    spec.data = { values: rows };
    return embed('ex-weights', spec);
  }

  function renderStrip() {
    var spec = clone(ex.templates.strip);
    var sel = state.view ? state.view.id : -1;
    spec.data = { values: state.pair.views.map(function (v) { return { id: v.id, layer: v.layer, unit: v.unit, rank1: v.rank + 1, selected: v.id === sel }; }) };
    return embed('ex-strip', spec).then(function (res) {
      if (res) res.view.addEventListener('click', function (ev, item) {
        if (item && item.datum && typeof item.datum.id === 'number') selectNeuron(item.datum.id);
      });
      return res;
    });
  }

  if (mSel && tSel && nSel) {
    ex.models.forEach(function (m) { mSel.appendChild(new Option(m, m)); });
    ex.tasks.forEach(function (t) { tSel.appendChild(new Option(t, t)); });
    if (ex.pairs.length) { mSel.value = ex.pairs[0].model; tSel.value = ex.pairs[0].task; }
    mSel.addEventListener('change', setPair);
    tSel.addEventListener('change', setPair);
    nSel.addEventListener('change', function () { selectNeuron(Number(nSel.value)); });
    var sentences = document.getElementById('ex-sentences');
    sentences.addEventListener('mouseover', showTip);
    sentences.addEventListener('focusin', showTip);
    sentences.addEventListener('mouseout', hideTip);
    sentences.addEventListener('focusout', hideTip);
    later(setPair);
  }

  drain();
})();
`;
