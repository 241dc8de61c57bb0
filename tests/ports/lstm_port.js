// A port of Keras' LSTM in plain JavaScript (node, no packages): it reads only the file
// `rnnparity diagnose --case ID --write-inputs in.json` writes, and writes call<k>_output<i> as JSON
// for `rnnparity diagnose --case ID --outputs out.json`.
//   node lstm_port.js in.json out.json [gate order the port assumes, e.g. icfo: a planted mistake]
const fs = require("fs");
const [inPath, outPath, assumedGates] = process.argv.slice(2);
const d = JSON.parse(fs.readFileSync(inPath, "utf8"));
const cfg = d.layer.config, n = cfg.units;
const W = d["forward/cell0/kernel"], U = d["forward/cell0/recurrent_kernel"], b = d["forward/cell0/bias"];
const gates = (assumedGates || d.layer.gates.join("")).split("");  // the kernel's column blocks
const col = (g, u) => gates.indexOf(g) * n + u;
const sigmoid = (v) => 1 / (1 + Math.exp(-v));
const zeros = (rows) => Array.from({ length: rows }, () => new Array(n).fill(0));

const out = {};
let carried = null, k = 0;
for (const step of d.plan) {
  if (step === "reset") { carried = null; continue; }
  const x = d[`call${k}_x`], mask = d[`call${k}_mask`], B = x.length, T = x[0].length;
  let [h, c] = d[`call${k}_initial_state0`] ? [d[`call${k}_initial_state0`], d[`call${k}_initial_state1`]]
    : (cfg.stateful && carried) || [zeros(B), zeros(B)];
  let last = zeros(B);  // Keras: a masked step outputs the last output, zeros before the first
  const seq = [];
  for (let s = 0; s < T; s++) {
    const t = cfg.go_backwards ? T - 1 - s : s;  // outputs stay in processing order
    const nh = [], nc = [], no = [];
    for (let r = 0; r < B; r++) {
      const z = (g, u) => {
        let v = cfg.use_bias ? b[col(g, u)] : 0;
        x[r][t].forEach((xq, q) => { v += xq * W[q][col(g, u)]; });
        h[r].forEach((hq, q) => { v += hq * U[q][col(g, u)]; });
        return v;
      };
      const keep = !mask || mask[r][t];  // a masked step carries the state and the last output
      const cr = [], hr = [], or = [];
      for (let u = 0; u < n; u++) {
        const i = sigmoid(z("i", u)), f = sigmoid(z("f", u)), o = sigmoid(z("o", u));
        const cu = f * c[r][u] + i * Math.tanh(z("c", u));
        cr.push(keep ? cu : c[r][u]);
        hr.push(keep ? o * Math.tanh(cu) : h[r][u]);
        or.push(keep ? hr[u] : last[r][u]);
      }
      nh.push(hr); nc.push(cr); no.push(or);
    }
    h = nh; c = nc; last = no; seq.push(last);
  }
  const arrays = [cfg.return_sequences ? h.map((_, r) => seq.map((os) => os[r])) : last];
  if (cfg.return_state) arrays.push(h, c);
  arrays.forEach((a, i) => { out[`call${k}_output${i}`] = a; });
  carried = [h, c];
  k += 1;
}
fs.writeFileSync(outPath, JSON.stringify(out));
