// thermolearn explorer: every number is computed here from the embedded JSON (tl-data).
// No libraries, no network. window.thermolearnExplorer exposes the computations for tests.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("tl-data").textContent);
  const TL = { data: DATA };
  window.thermolearnExplorer = TL;
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ helpers
  // sfc32: a small seeded generator, so that a run of the page is reproducible
  function Rng(seed) {
    let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = (seed >>> 0) ^ 0xdeadbeef;
    const next = () => {
      a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
      let t = (a + b) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      d = (d + 1) | 0;
      t = (t + d) | 0;
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    };
    for (let i = 0; i < 16; i++) next();
    this.random = next;
    this.int = (n) => Math.floor(next() * n);
  }
  TL.Rng = Rng;

  // ln(1 + e^x) without overflow
  const softplus = (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  const sigmoid = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
  const fmt = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
  // full precision on the page: 15 significant digits are displayed, the exact double is in data-value
  function show(id, x, text) {
    const el = $(id);
    el.textContent = text === undefined ? x.toPrecision(15) : text;
    el.dataset.value = String(x);
  }
  function bindSlider(id, decimals, onChange, label) {
    const input = $(id), out = $(id + "-out");
    const update = () => {
      const v = parseFloat(input.value);
      if (out) out.textContent = label ? label(v) : v.toFixed(decimals);
      onChange(v);
    };
    input.addEventListener("input", update);
    update();
    return input;
  }
  function clearCanvas(ctx) {
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  }
  // a line plot of several series on one canvas; horizontal reference lines dashed
  function linePlot(canvas, series, lines, yMin, yMax, xMax) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 34;
    clearCanvas(ctx);
    const X = (i) => pad + ((W - pad - 8) * i) / Math.max(1, xMax - 1);
    const Y = (y) => H - pad + ((pad + 8 - H) * (y - yMin)) / (yMax - yMin);
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.beginPath(); ctx.moveTo(pad, 8); ctx.lineTo(pad, H - pad); ctx.lineTo(W - 8, H - pad); ctx.stroke();
    ctx.fillStyle = "#555"; ctx.font = "11px sans-serif";
    ctx.fillText(yMax.toFixed(2), 2, 14); ctx.fillText(yMin.toFixed(2), 2, H - pad);
    for (const ln of lines) {
      if (!Number.isFinite(ln.y)) continue;
      ctx.strokeStyle = ln.color; ctx.setLineDash([5, 4]);
      ctx.beginPath(); ctx.moveTo(pad, Y(ln.y)); ctx.lineTo(W - 8, Y(ln.y)); ctx.stroke();
    }
    ctx.setLineDash([]);
    let legendX = pad + 6;
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = 1.5;
      ctx.beginPath();
      s.values.forEach((y, i) => (i ? ctx.lineTo(X(i), Y(y)) : ctx.moveTo(X(i), Y(y))));
      ctx.stroke();
      ctx.fillStyle = s.color; ctx.fillText(s.label, legendX, H - 8); legendX += 120;
    }
  }
  // binary/spin/probability images: value in [0, 1] -> grey (1 = dark ink)
  function drawImage(canvas, values, rows, cols, x0, y0) {
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const g = Math.round(255 * (1 - values[i]));
      img.data[4 * i] = g; img.data[4 * i + 1] = g; img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, x0 || 0, y0 || 0);
  }

  // ------------------------------------------------------------------ two spins
  const STATES = [["pp", 1, 1], ["pm", 1, -1], ["mp", -1, 1], ["mm", -1, -1]];
  function twoSpin(T, w, h) {
    const energies = STATES.map(([, s1, s2]) => -w * s1 * s2 - h * (s1 + s2));
    const e0 = Math.min(...energies);
    const weights = energies.map((e) => Math.exp(-(e - e0) / T));
    const z = weights.reduce((a, b) => a + b, 0);
    const probabilities = weights.map((x) => x / z);
    const corr = STATES.reduce((acc, [, s1, s2], k) => acc + s1 * s2 * probabilities[k], 0);
    return { energies, probabilities, logZ: Math.log(z) - e0 / T, correlation: corr };
  }
  TL.twoSpin = { compute: twoSpin, params: { T: 1, w: 1, h: 0 }, result: null };
  function drawTwoSpin() {
    const { T, w, h } = TL.twoSpin.params;
    const r = twoSpin(T, w, h);
    TL.twoSpin.result = r;
    STATES.forEach(([name], k) => {
      show("ts-E-" + name, r.energies[k], fmt(r.energies[k], 2));
      show("ts-p-" + name, r.probabilities[k]);
    });
    show("ts-logz", r.logZ);
    show("ts-corr", r.correlation);
    const cv = $("ts-bars"), ctx = cv.getContext("2d");
    clearCanvas(ctx);
    const bw = 60, gap = 26, base = cv.height - 30;
    ctx.font = "12px sans-serif";
    STATES.forEach(([, s1, s2], k) => {
      const x = 30 + k * (bw + gap), hgt = (base - 10) * r.probabilities[k];
      ctx.fillStyle = s1 === s2 ? "#3b6fb6" : "#c0504d";
      ctx.fillRect(x, base - hgt, bw, hgt);
      ctx.fillStyle = "#222";
      ctx.fillText((s1 > 0 ? "+" : "\u2212") + (s2 > 0 ? "+" : "\u2212"), x + bw / 2 - 8, base + 16);
    });
    ctx.strokeStyle = "#999"; ctx.setLineDash([4, 4]);
    const quarter = base - (base - 10) / 4;
    ctx.beginPath(); ctx.moveTo(20, quarter); ctx.lineTo(cv.width - 10, quarter); ctx.stroke();
    ctx.setLineDash([]);
  }
  bindSlider("ts-T", 2, (v) => { TL.twoSpin.params.T = v; drawTwoSpin(); });
  bindSlider("ts-w", 2, (v) => { TL.twoSpin.params.w = v; drawTwoSpin(); });
  bindSlider("ts-h", 2, (v) => { TL.twoSpin.params.h = v; drawTwoSpin(); });

  // ------------------------------------------------------------------ Ising lattice
  const LAT = DATA.lattice;
  const DISCARD = 200, BLOCK = 100, TRACE = 400;
  const ising = {
    L: 32, T: 2.5, algorithm: "metropolis", running: true, perFrame: 5, seed: DATA.seed,
    spins: null, energy: 0, magnet: 0, steps: 0, rng: null,
    measured: 0, blockSum: [0, 0], blocks: [], traceE: [], traceM: [],
  };
  TL.ising = ising;
  ising.exact = function () {
    const k = Math.round((ising.T - LAT.temperatures[0]) * 100);
    const table = LAT.kaufman[String(ising.L)];
    return {
      temperature: LAT.temperatures[k],
      energyPerSpin: table.energy_per_spin[k],
      specificHeatPerSpin: table.specific_heat_per_spin[k],
      magnetization: LAT.onsager_magnetization[k],
    };
  };
  ising.resetStats = function () {
    ising.measured = 0; ising.blockSum = [0, 0]; ising.blocks = []; ising.traceE = []; ising.traceM = [];
    ising.clusters = [0, 0]; ising.wolffClusters = 1;
  };
  ising.reset = function (seed) {
    if (seed !== undefined) ising.seed = seed;
    const L = ising.L, n = L * L;
    ising.rng = new Rng(ising.seed * 1000003 + L);
    ising.spins = new Int8Array(n);
    for (let i = 0; i < n; i++) ising.spins[i] = ising.rng.random() < 0.5 ? 1 : -1;
    ising.stack = new Int32Array(n);
    ising.recount();
    ising.steps = 0;
    ising.resetStats();
  };
  ising.recount = function () {
    const L = ising.L, s = ising.spins;
    let e = 0, m = 0;
    for (let r = 0; r < L; r++) {
      for (let c = 0; c < L; c++) {
        const i = r * L + c;
        e -= s[i] * (s[r * L + ((c + 1) % L)] + s[((r + 1) % L) * L + c]);
        m += s[i];
      }
    }
    ising.energy = e; ising.magnet = m;
  };
  function metropolisSweep() {
    const L = ising.L, s = ising.spins, rng = ising.rng, beta = 1 / ising.T;
    const accept4 = Math.exp(-4 * beta), accept8 = Math.exp(-8 * beta);
    for (let r = 0; r < L; r++) {
      const up = ((r + L - 1) % L) * L, down = ((r + 1) % L) * L, row = r * L;
      for (let c = 0; c < L; c++) {
        const i = row + c;
        const nb = s[row + ((c + 1) % L)] + s[row + ((c + L - 1) % L)] + s[up + c] + s[down + c];
        const dE = 2 * s[i] * nb;
        if (dE <= 0 || rng.random() < (dE === 4 ? accept4 : accept8)) {
          s[i] = -s[i];
          ising.energy += dE;
          ising.magnet += 2 * s[i];
        }
      }
    }
  }
  // one Wolff cluster; returns its size
  function wolffCluster() {
    const L = ising.L, s = ising.spins, rng = ising.rng, stack = ising.stack;
    const pAdd = 1 - Math.exp(-2 / ising.T);
    const seed = rng.int(L * L), sign = s[seed];
    let top = 0, size = 1;
    s[seed] = -sign; stack[top++] = seed;
    while (top > 0) {
      const i = stack[--top], r = (i / L) | 0, c = i - r * L;
      const nbs = [r * L + ((c + 1) % L), r * L + ((c + L - 1) % L), ((r + 1) % L) * L + c, ((r + L - 1) % L) * L + c];
      for (const j of nbs) {
        if (s[j] === sign && rng.random() < pAdd) {
          s[j] = -sign; stack[top++] = j; size++;
        }
      }
    }
    return size;
  }
  // one step: a Metropolis sweep, or about a sweep's worth of Wolff clusters. Stopping once N spins
  // have flipped would bias the measurements (the stopping time depends on the state), so that rule
  // runs only while thermalising; it fixes the mean cluster size, and after it every step is the same
  // fixed number of clusters.
  ising.step = function () {
    if (ising.algorithm === "metropolis") {
      metropolisSweep();
    } else if (ising.measured < DISCARD) {
      const n = ising.L * ising.L;
      let flipped = 0;
      while (flipped < n) { flipped += wolffCluster(); ising.clusters[0]++; }
      ising.clusters[1] += flipped;
      ising.wolffClusters = Math.max(1, Math.round((n * ising.clusters[0]) / ising.clusters[1]));
      ising.recount();
    } else {
      for (let k = 0; k < ising.wolffClusters; k++) wolffCluster();
      ising.recount();
    }
    ising.steps++;
    ising.measure();
  };
  ising.measure = function () {
    const n = ising.L * ising.L, e = ising.energy / n, m = Math.abs(ising.magnet) / n;
    ising.traceE.push(e); ising.traceM.push(m);
    if (ising.traceE.length > TRACE) { ising.traceE.shift(); ising.traceM.shift(); }
    ising.measured++;
    if (ising.measured <= DISCARD) return;
    ising.blockSum[0] += e; ising.blockSum[1] += m;
    if ((ising.measured - DISCARD) % BLOCK === 0) {
      ising.blocks.push([ising.blockSum[0] / BLOCK, ising.blockSum[1] / BLOCK]);
      ising.blockSum = [0, 0];
    }
  };
  ising.advance = function (n) {
    for (let k = 0; k < n; k++) ising.step();
    ising.draw();
    return ising.stats();
  };
  // running means over whole blocks; error = standard deviation of the block means / sqrt(blocks)
  ising.stats = function () {
    const b = ising.blocks, k = b.length, out = { steps: ising.steps, blocks: k, blockSize: BLOCK, discard: DISCARD };
    for (const [q, name] of [[0, "energyPerSpin"], [1, "absMagnetization"]]) {
      let mean = NaN, err = NaN;
      if (k >= 1) {
        mean = b.reduce((a, x) => a + x[q], 0) / k;
        if (k >= 2) err = Math.sqrt(b.reduce((a, x) => a + (x[q] - mean) ** 2, 0) / (k - 1) / k);
      }
      out[name] = mean; out[name + "Error"] = err;
    }
    out.exact = ising.exact();
    return out;
  };
  ising.draw = function () {
    const L = ising.L, cv = $("is-lattice");
    if (cv.width !== L) { cv.width = L; cv.height = L; }
    const vals = new Float64Array(L * L);
    for (let i = 0; i < L * L; i++) vals[i] = ising.spins[i] > 0 ? 0.85 : 0.1;
    drawImage(cv, vals, L, L);
    const st = ising.stats(), ex = st.exact;
    show("is-steps", ising.steps, String(ising.steps));
    // one block mean has no spread to estimate an error from: say so, never print a bare mean that
    // reads as exact
    const pm = (mean, err) => {
      if (!Number.isFinite(mean)) return "thermalising\u2026";
      if (Number.isFinite(err)) return mean.toFixed(5) + " \u00b1 " + err.toFixed(5);
      return mean.toFixed(5) + " (" + st.blocks + (st.blocks === 1 ? " block" : " blocks") + ": no error bar yet)";
    };
    show("is-e", st.energyPerSpin, pm(st.energyPerSpin, st.energyPerSpinError));
    $("is-e").dataset.error = String(st.energyPerSpinError);
    show("is-m", st.absMagnetization, pm(st.absMagnetization, st.absMagnetizationError));
    $("is-m").dataset.error = String(st.absMagnetizationError);
    show("is-e-exact", ex.energyPerSpin);
    show("is-c-exact", ex.specificHeatPerSpin);
    show("is-m-exact", ex.magnetization);
    linePlot($("is-trace"), [
      { values: ising.traceE, color: "#3b6fb6", label: "E/N" },
      { values: ising.traceM, color: "#c0504d", label: "|m|" },
    ], [{ y: ex.energyPerSpin, color: "#3b6fb6" }, { y: ex.magnetization, color: "#c0504d" }], -2, 1, TRACE);
  };
  $("is-discard").textContent = String(DISCARD);
  $("is-block").textContent = String(BLOCK);
  $("is-tc").textContent = LAT.critical_temperature.toFixed(6);
  for (const L of LAT.sizes) {
    const o = document.createElement("option");
    o.value = String(L); o.textContent = String(L); o.selected = L === ising.L;
    $("is-L").appendChild(o);
  }
  ising.reset();
  $("is-L").addEventListener("change", () => { ising.L = parseInt($("is-L").value, 10); ising.reset(); ising.draw(); });
  $("is-alg").addEventListener("change", () => { ising.algorithm = $("is-alg").value; ising.resetStats(); ising.draw(); });
  bindSlider("is-T", 2, (v) => { ising.T = v; ising.resetStats(); ising.draw(); });
  bindSlider("is-speed", 0, (v) => { ising.perFrame = v; });
  $("is-run").addEventListener("click", () => {
    ising.running = !ising.running;
    $("is-run").textContent = ising.running ? "pause" : "run";
  });

  // ------------------------------------------------------------------ mean field
  const MF = DATA.mean_field;
  // every root of m = tanh(beta (z J m + h)), J = 1: sign changes on a 4001-point grid, then bisection
  function meanFieldRoots(T, z, h) {
    const beta = 1 / T, g = (m) => Math.tanh(beta * (z * m + h)) - m;
    const n = 4001, roots = [];
    const grid = (k) => -1 + (2 * k) / (n - 1);
    let a = g(grid(0));
    for (let k = 0; k < n - 1; k++) {
      const lo0 = grid(k), hi0 = grid(k + 1), b = g(hi0);
      if (a === 0) roots.push(lo0);
      else if (a * b < 0) {
        let lo = lo0, hi = hi0, glo = a;
        for (let it = 0; it < 200 && hi - lo > 1e-16; it++) {
          const mid = 0.5 * (lo + hi), gm = g(mid);
          if (gm === 0) { lo = hi = mid; break; }
          if ((gm < 0) === (glo < 0)) { lo = mid; glo = gm; } else hi = mid;
        }
        roots.push(0.5 * (lo + hi));
      }
      a = b;
    }
    if (a === 0) roots.push(1);
    let out = roots;
    if (h === 0) {  // the paramagnet is an exact root; the ordered pair is symmetric
      const pos = roots.filter((r) => r > 1e-9);
      out = [0];
      if (pos.length) { const m = Math.max(...pos); out.push(m, -m); }
    }
    out.sort((x, y) => x - y);
    out = out.filter((r, k) => k === 0 || r - out[k - 1] > 1e-12);
    return out.map((m) => ({ magnetization: m, stable: beta * z * (1 - m * m) < 1 }));
  }
  TL.meanField = { roots: meanFieldRoots, params: { T: 3, h: 0, z: 4 }, result: null };
  function drawMeanField() {
    const { T, h, z } = TL.meanField.params;
    const roots = meanFieldRoots(T, z, h);
    TL.meanField.result = roots;
    const tc = MF.critical_temperature[String(z)];
    show("mf-tc", tc, "z J = " + tc.toFixed(2));
    const body = $("mf-roots");
    body.innerHTML = "";
    roots.forEach((r, k) => {
      const tr = document.createElement("tr"), td = document.createElement("td"), ts = document.createElement("td");
      td.id = "mf-root-" + k; td.textContent = r.magnetization.toPrecision(15); td.dataset.value = String(r.magnetization);
      ts.textContent = r.stable ? "yes" : "no";
      tr.appendChild(td); tr.appendChild(ts); body.appendChild(tr);
    });
    const cv = $("mf-graph"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height, lim = 1.25;
    const X = (m) => (W * (m + lim)) / (2 * lim), Y = (y) => H - (H * (y + lim)) / (2 * lim);
    clearCanvas(ctx);
    ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(X(-lim), Y(0)); ctx.lineTo(X(lim), Y(0)); ctx.moveTo(X(0), Y(-lim)); ctx.lineTo(X(0), Y(lim)); ctx.stroke();
    ctx.strokeStyle = "#888"; ctx.setLineDash([5, 4]);
    ctx.beginPath(); ctx.moveTo(X(-lim), Y(-lim)); ctx.lineTo(X(lim), Y(lim)); ctx.stroke(); ctx.setLineDash([]);
    ctx.strokeStyle = "#3b6fb6"; ctx.lineWidth = 2; ctx.beginPath();
    for (let k = 0; k <= 300; k++) {
      const m = -lim + (2 * lim * k) / 300, y = Math.tanh((z * m + h) / T);
      if (k) ctx.lineTo(X(m), Y(y)); else ctx.moveTo(X(m), Y(y));
    }
    ctx.stroke();
    for (const r of roots) {
      ctx.beginPath(); ctx.arc(X(r.magnetization), Y(r.magnetization), 5, 0, 2 * Math.PI);
      ctx.fillStyle = r.stable ? "#c0504d" : "#fff"; ctx.strokeStyle = "#c0504d"; ctx.lineWidth = 2;
      ctx.fill(); ctx.stroke();
    }
    ctx.fillStyle = "#333"; ctx.font = "12px sans-serif";
    ctx.fillText("tanh(\u03b2(zJm + h))", 8, 16);
    ctx.fillText(T < tc ? "T < T_c: ordered" : "T \u2265 T_c", 8, 32);
  }
  bindSlider("mf-T", 2, (v) => { TL.meanField.params.T = v; drawMeanField(); });
  bindSlider("mf-h", 2, (v) => { TL.meanField.params.h = v; drawMeanField(); });
  bindSlider("mf-z", 0, (v) => { TL.meanField.params.z = MF.coordinations[v]; drawMeanField(); }, (v) => String(MF.coordinations[v]));

  // ------------------------------------------------------------------ RBM
  const RB = DATA.rbm, NV = RB.n_visible, NH = RB.n_hidden;
  const Wt = RB.weights;  // (NV, NH)
  function hiddenInput(v) {
    const a = RB.hidden_bias.slice();
    for (let i = 0; i < NV; i++) if (v[i]) for (let j = 0; j < NH; j++) a[j] += v[i] * Wt[i][j];
    return a;
  }
  function visibleInput(hh) {
    const a = RB.visible_bias.slice();
    for (let i = 0; i < NV; i++) { let s = 0; for (let j = 0; j < NH; j++) s += Wt[i][j] * hh[j]; a[i] += s; }
    return a;
  }
  const rbm = {
    beta: 1, running: true, sweeps: 0, digit: 0, rng: new Rng(DATA.seed + 17),
    chains: [], repair: null, repairMean: null, repairCount: 0,
    // F_beta(v) = -b.v - (1/beta) sum_j ln(1 + exp(beta (c_j + v.W_j))), so p_beta(v) = exp(-beta F) / Z
    freeEnergy(v, beta) {
      const b = beta === undefined ? rbm.beta : beta, a = hiddenInput(v);
      let f = 0;
      for (let i = 0; i < NV; i++) f -= RB.visible_bias[i] * v[i];
      for (let j = 0; j < NH; j++) f -= softplus(b * a[j]) / b;
      return f;
    },
    hiddenProbabilities(v, beta) {
      const b = beta === undefined ? rbm.beta : beta;
      return hiddenInput(v).map((x) => sigmoid(b * x));
    },
    visibleProbabilities(hh, beta) {
      const b = beta === undefined ? rbm.beta : beta;
      return visibleInput(hh).map((x) => sigmoid(b * x));
    },
    // one block Gibbs sweep v -> h -> v; clamped[i] true keeps v[i]; returns p(v|h)
    gibbs(v, clamped) {
      const ph = rbm.hiddenProbabilities(v), hh = ph.map((p) => (rbm.rng.random() < p ? 1 : 0));
      const pv = rbm.visibleProbabilities(hh);
      for (let i = 0; i < NV; i++) if (!clamped || !clamped[i]) v[i] = rbm.rng.random() < pv[i] ? 1 : 0;
      return pv;
    },
  };
  TL.rbm = rbm;
  const erased = Array.from({ length: NV }, (_, i) => i >= NV / 2);
  const known = erased.map((e) => !e);
  rbm.erased = erased;
  rbm.restart = function () {
    rbm.chains = Array.from({ length: 8 }, () => Array.from({ length: NV }, () => (rbm.rng.random() < 0.5 ? 1 : 0)));
    const d = RB.repair_digits[rbm.digit];
    rbm.repair = d.map((x, i) => (erased[i] ? 0 : x));
    rbm.repairMean = new Float64Array(NV); rbm.repairCount = 0; rbm.sweeps = 0;
  };
  rbm.step = function () {
    for (const v of rbm.chains) rbm.gibbs(v, null);
    const pv = rbm.gibbs(rbm.repair, known);
    for (let i = 0; i < NV; i++) rbm.repairMean[i] += erased[i] ? pv[i] : rbm.repair[i];
    rbm.repairCount++; rbm.sweeps++;
  };
  rbm.advance = function (n) { for (let k = 0; k < n; k++) rbm.step(); rbm.draw(); };
  rbm.draw = function () {
    const cv = $("rbm-samples");
    rbm.chains.forEach((v, k) => drawImage(cv, v, 8, 8, (k % 4) * 8, Math.floor(k / 4) * 8));
    const d = RB.repair_digits[rbm.digit];
    drawImage($("rbm-original"), d, 8, 8);
    drawImage($("rbm-damaged"), d.map((x, i) => (erased[i] ? 0.25 : x)), 8, 8);
    drawImage($("rbm-repaired"), rbm.repair, 8, 8);
    const mean = Array.from(rbm.repairMean, (x) => x / Math.max(1, rbm.repairCount));
    drawImage($("rbm-mean"), mean, 8, 8);
    let right = 0, total = 0;
    for (let i = 0; i < NV; i++) if (erased[i]) { total++; if ((mean[i] > 0.5 ? 1 : 0) === d[i]) right++; }
    show("rbm-sweeps", rbm.sweeps, String(rbm.sweeps));
    show("rbm-F", rbm.freeEnergy(rbm.chains[0]));
    show("rbm-repair-F", rbm.freeEnergy(rbm.repair));
    show("rbm-repair-acc", right / total, right + " / " + total + " (mean of p(v|h) rounded)");
  };
  $("rbm-shape").textContent = NV + " visible and " + NH + " hidden units";
  $("rbm-epochs").textContent = String(RB.epochs);
  bindSlider("rbm-beta", 2, (v) => { rbm.beta = v; if (rbm.chains.length) rbm.draw(); });
  bindSlider("rbm-digit", 0, (v) => { rbm.digit = v; rbm.restart(); rbm.draw(); });
  $("rbm-run").addEventListener("click", () => { rbm.running = !rbm.running; $("rbm-run").textContent = rbm.running ? "pause" : "run"; });
  $("rbm-restart").addEventListener("click", () => { rbm.restart(); rbm.draw(); });

  // ------------------------------------------------------------------ Hopfield
  const HF = DATA.hopfield, N = HF.n_neurons, P = HF.patterns.length;
  const hopfield = {
    pattern: 2, noise: 0.15, rng: new Rng(DATA.seed + 29), cue: null, state: null, sweeps: 0,
    recalling: false, converged: false, energies: [],
    // E(s) = -1/2 s^T J s - b^T s
    energy(s) {
      let e = 0;
      for (let i = 0; i < N; i++) {
        let f = 0;
        const row = HF.couplings[i];
        for (let j = 0; j < N; j++) f += row[j] * s[j];
        e -= 0.5 * s[i] * f + HF.biases[i] * s[i];
      }
      return e;
    },
    overlaps(s) {
      return HF.patterns.map((xi) => xi.reduce((a, x, i) => a + x * s[i], 0) / N);
    },
    // one asynchronous zero-temperature sweep in random order; returns the number of flips
    sweep() {
      const order = Array.from({ length: N }, (_, i) => i);
      for (let i = N - 1; i > 0; i--) { const k = hopfield.rng.int(i + 1); [order[i], order[k]] = [order[k], order[i]]; }
      const s = hopfield.state;
      let flips = 0;
      for (const i of order) {
        let f = HF.biases[i];
        const row = HF.couplings[i];
        for (let j = 0; j < N; j++) f += row[j] * s[j];
        // flip only when it lowers E (Delta E = 2 s_i f_i < 0); ties keep the state
        if (s[i] * f < -1e-12) { s[i] = -s[i]; flips++; }
      }
      hopfield.sweeps++;
      hopfield.energies.push(hopfield.energy(s));
      if (flips === 0) { hopfield.converged = true; hopfield.recalling = false; }
      return flips;
    },
    recallToEnd(maxSweeps) {
      hopfield.recalling = true;
      for (let k = 0; k < (maxSweeps || 100) && !hopfield.converged; k++) hopfield.sweep();
      hopfield.recalling = false;
      hopfield.draw();
      return hopfield.state.slice();
    },
  };
  TL.hopfield = hopfield;
  hopfield.corrupt = function () {
    const xi = HF.patterns[hopfield.pattern];
    hopfield.cue = xi.map((x) => (hopfield.rng.random() < hopfield.noise ? -x : x));
    hopfield.state = hopfield.cue.slice();
    hopfield.sweeps = 0; hopfield.converged = false; hopfield.recalling = false;
    hopfield.energies = [hopfield.energy(hopfield.state)];
    hopfield.draw();
  };
  hopfield.draw = function () {
    const img = (s) => s.map((x) => (x > 0 ? 1 : 0));
    drawImage($("hf-stored"), img(HF.patterns[hopfield.pattern]), 8, 8);
    drawImage($("hf-cue"), img(hopfield.cue), 8, 8);
    drawImage($("hf-state"), img(hopfield.state), 8, 8);
    const e = hopfield.energy(hopfield.state), ov = hopfield.overlaps(hopfield.state);
    show("hf-energy", e);
    show("hf-sweeps", hopfield.sweeps, String(hopfield.sweeps));
    $("hf-overlaps").textContent = ov.map((o, k) => HF.labels[k] + ": " + o.toFixed(3)).join("  ");
    $("hf-overlaps").dataset.value = JSON.stringify(ov);
    const best = ov.indexOf(Math.max(...ov));
    let status = hopfield.recalling ? "recalling\u2026" : "cue";
    if (hopfield.converged) status = ov[best] === 1 ? "retrieved digit " + HF.labels[best] : "stuck in a spurious state";
    $("hf-status").textContent = status;
    const es = hopfield.energies, lo = Math.min(...es), hi = Math.max(...es);
    linePlot($("hf-energy-trace"), [{ values: es, color: "#3b6fb6", label: "E per sweep" }], [], lo - 1, hi + 1, Math.max(2, es.length));
  };
  $("hf-count").textContent = String(P);
  $("hf-pattern").max = String(P - 1);
  bindSlider("hf-pattern", 0, (v) => { hopfield.pattern = v; hopfield.corrupt(); }, (v) => String(HF.labels[v]));
  bindSlider("hf-noise", 2, (v) => { hopfield.noise = v; hopfield.corrupt(); });
  $("hf-corrupt").addEventListener("click", () => hopfield.corrupt());
  $("hf-recall").addEventListener("click", () => { if (!hopfield.converged) { hopfield.recalling = true; hopfield.draw(); } });

  // ------------------------------------------------------------------ animation
  let frame = 0;
  function tick() {
    frame++;
    if (ising.running) ising.advance(ising.perFrame);
    if (rbm.running && frame % 3 === 0) rbm.advance(1);
    if (hopfield.recalling && frame % 10 === 0) { hopfield.sweep(); hopfield.draw(); }
    window.requestAnimationFrame(tick);
  }
  $("page-size").textContent = (document.documentElement.outerHTML.length / 1024).toFixed(0) + " kB";
  ising.draw();
  window.requestAnimationFrame(tick);
  TL.ready = true;
})();
