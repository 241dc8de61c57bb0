// The grid's behaviour: filters (recount and recolour every cell), and the pane a click opens.
"use strict";
const ORDER = document.body.dataset.order.split(" ");
const SYMBOL = {};
document.querySelectorAll("[data-symbol]").forEach(el => { SYMBOL[el.dataset.verdict] = el.dataset.symbol; });
const LABEL = {};
document.querySelectorAll("[data-label]").forEach(el => { LABEL[el.dataset.verdict] = el.dataset.label; });

function reveal(hash) {  // open the collapsed groups around an anchor, then show it
  const el = hash && document.getElementById(decodeURIComponent(hash.slice(1)));
  if (!el) return;
  for (let d = el.closest("details"); d; d = d.parentElement ? d.parentElement.closest("details") : null) d.open = true;
  el.scrollIntoView();
}

function filterValues() {
  const f = {};
  document.querySelectorAll("select[data-filter]").forEach(s => { if (s.value) f[s.dataset.filter] = s.value; });
  return f;
}

function visible(li, f) {
  return Object.entries(f).every(([k, v]) => li.dataset[k] === v);
}

function smallNumber(x) {  // as html.small_number
  if (x === 0) return "0";
  if (x < 0.01 || x >= 1000) return x.toExponential(0).replace("e-0", "e-").replace("e+", "e");
  return String(Number(x.toPrecision(2)));
}

function recount() {
  const f = filterValues();
  const totals = {};
  document.querySelectorAll("details.panel").forEach(panel => {
    const pcounts = {};
    panel.querySelectorAll("td.cell, td.empty").forEach(td => {
      const counts = {}; let n = 0; let largest = null;
      td.querySelectorAll("li[data-case]").forEach(li => {
        const show = visible(li, f);
        li.dataset.shown = show ? "1" : "0";
        if (!show) return;
        n += 1;
        counts[li.dataset.verdict] = (counts[li.dataset.verdict] || 0) + 1;
        if (li.dataset.maxabs) largest = Math.max(largest === null ? 0 : largest, parseFloat(li.dataset.maxabs));
      });
      const worst = ORDER.find(v => counts[v]);
      td.className = n ? "cell v-" + worst : "empty";
      const mixed = ORDER.filter(v => counts[v]).length > 1;
      const badges = mixed ? ORDER.filter(v => counts[v] && SYMBOL[v]).map(v => counts[v] + SYMBOL[v]).join(" ") : "";
      td.querySelector(".n").textContent = n ? String(n) : "";
      td.querySelector("small").textContent = badges;
      const big = td.querySelector(".big");
      if (big) big.textContent = largest !== null && n ? smallNumber(largest) : "";
      td.title = n ? n + " cases: " + ORDER.filter(v => counts[v]).map(v => (LABEL[v] || v) + " " + counts[v]).join(", ") +
        (largest !== null ? "; largest difference " + (largest === 0 ? "0" : largest.toPrecision(3)) : "") + " (click for the ids)" : "no case";
      ORDER.forEach(v => { if (counts[v]) { pcounts[v] = (pcounts[v] || 0) + counts[v]; totals[v] = (totals[v] || 0) + counts[v]; } });
    });
    const pc = panel.querySelector(".pcounts");
    if (pc) pc.textContent = ORDER.filter(v => pcounts[v]).map(v => (LABEL[v] || v) + ": " + pcounts[v]).join(" · ") || "no case matches the filters";
  });
  document.querySelectorAll("[data-total]").forEach(el => { el.textContent = totals[el.dataset.total] || 0; });
}

function closePane() {
  document.getElementById("pane").classList.remove("open");
  document.querySelectorAll("td.selected").forEach(td => td.classList.remove("selected"));
}

function openPane(td) {
  closePane();
  td.classList.add("selected");
  const list = document.getElementById("pane-list");
  list.textContent = "";
  const items = [...td.querySelectorAll("li[data-case]")].filter(li => li.dataset.shown !== "0");
  document.getElementById("pane-title").textContent = td.dataset.where + ": " + items.length + " case(s)";
  items.forEach(li => {
    const item = document.createElement("li");
    const id = document.createElement("span"); id.className = "id"; id.textContent = li.dataset.case;
    const badge = document.createElement("span"); badge.className = "badge v-" + li.dataset.verdict;
    badge.textContent = LABEL[li.dataset.verdict] || li.dataset.verdict;
    item.append(id, " ", badge);
    if (li.dataset.note) { const n = document.createElement("div"); n.className = "note"; n.textContent = li.dataset.note; item.append(n); }
    const repro = li.dataset.repro || (document.body.dataset.reproPrefix ? document.body.dataset.reproPrefix + li.dataset.case : "");
    if (repro) { const r = document.createElement("div"); const c = document.createElement("code"); c.textContent = repro; r.append("repro: ", c); item.append(r); }
    if (li.dataset.anchor) { const a = document.createElement("a"); a.href = "#" + li.dataset.anchor; a.textContent = "details: error over time, worst element, full report ↓"; a.addEventListener("click", () => reveal("#" + li.dataset.anchor)); item.append(a); }
    list.append(item);
  });
  document.getElementById("pane").classList.add("open");
}

document.querySelectorAll("select[data-filter]").forEach(s => s.addEventListener("change", recount));
document.querySelectorAll("td.cell, td.empty").forEach(td => td.addEventListener("click", () => { if (td.classList.contains("cell")) openPane(td); }));
document.addEventListener("keydown", e => { if (e.key === "Escape") closePane(); });
window.addEventListener("hashchange", () => reveal(location.hash));
recount();
reveal(location.hash);
