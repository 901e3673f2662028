// Demo HIS page for tiepdon: pairs, shows events live and runs a manual
// check, using the same /v1/client.js an HIS would import.
import { TiepdonClient, Events, TiepdonError } from "/v1/client.js";

const $ = (id) => document.getElementById(id);
const tiepdon = new TiepdonClient({
  url: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/ws",
  name: "Demo HIS",
  version: "1",
});

const verdictText = {
  "eligible": "Đủ điều kiện · Eligible",
  "check-documents": "Kiểm tra giấy tờ · Check documents",
  "not-eligible": "Không đủ điều kiện · Not eligible",
  "input-mismatch": "Thông tin không khớp · Input mismatch",
  "staff-problem": "Lỗi tài khoản cán bộ · Staff sign-in problem",
  "unavailable": "Không có kết quả · Unavailable",
};

function log(name, detail) {
  const li = document.createElement("li");
  const t = new Date().toLocaleTimeString();
  let summary = "";
  if (detail && typeof detail === "object") {
    summary = detail.checkId ? " " + detail.checkId : "";
    if (detail.state) summary += " " + detail.state;
    if (detail.eligibility) summary += " " + detail.eligibility.verdict;
    if (detail.step) summary += " " + detail.step + " " + detail.percent + "%";
    if (detail.dropped) summary += " lost " + detail.dropped;
  }
  li.textContent = t + "  " + name + summary;
  li.dataset.event = name;
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function showConn() {
  const el = $("conn");
  let state = tiepdon.state;
  let text = { connecting: "connecting…", closed: "disconnected", open: "connected" }[state] || state;
  if (state === "open") {
    if (tiepdon.paired) text = "paired · " + (tiepdon.session.scopes || []).join(", ");
    else { state = "unpaired"; text = "connected · not paired"; }
  }
  el.dataset.state = state;
  $("conn-state").textContent = text;
}

function renderResult(r) {
  const e = r.eligibility || {};
  const id = r.identity || {};
  $("result").dataset.verdict = e.verdict || "none";
  $("result-verdict").textContent = verdictText[e.verdict] || (e.verdict ? e.verdict : "Reading…");
  $("result-name").textContent = id.name || e.holder || "–";
  $("result-cid").textContent = id.citizenId || "–";
  $("result-card").textContent = e.cardNumber || id.cardNumber || "–";
  $("result-valid").textContent = e.validFrom || e.validTo ? (e.validFrom || "?") + " → " + (e.validTo || "?") : "–";
  $("result-reason").textContent = e.reasonVi ? e.reasonVi + (e.code ? " (" + e.code + ")" : "") : "–";
  let src = e.source || "–";
  if (e.source === "cache" && e.ageSeconds != null) src += " · " + Math.round(e.ageSeconds / 60) + " min old";
  $("result-source").textContent = src;
  $("result-auth").textContent = (id.authenticity && id.authenticity.level) || "–";
  $("result-check").textContent = r.checkId || "–";
  const img = $("photo");
  if (r.photo) {
    img.src = "data:" + (r.photoType || "image/jpeg") + ";base64," + r.photo;
    img.hidden = false;
  } else if (r.eligibility) {
    img.hidden = true;
  }
}

async function refreshStatus() {
  try {
    const st = await tiepdon.status();
    $("st-version").textContent = st.version + " · API " + st.apiLevel;
    $("st-gateway").textContent = st.gateway ? st.gateway.state : "unknown";
    const devs = [...st.readers, ...st.scanners].map((d) => d.name + ": " + d.state);
    $("st-devices").textContent = devs.length ? devs.join(", ") : "none";
    $("st-cache").textContent = st.cache.ageSeconds == null ? "empty" : Math.round(st.cache.ageSeconds) + " s";
  } catch (e) {
    /* not paired yet */
  }
}

tiepdon.on(Events.STATE, (s) => {
  showConn();
  log("state", s);
  if (s.state === "open" && tiepdon.paired) {
    refreshStatus();
    tiepdon.currentIdentity().then((r) => r && renderResult(r)).catch(() => {});
  }
});
for (const name of [Events.DEVICE_CHANGED, Events.CARD_PRESENTED, Events.CARD_PROGRESS, Events.READ_FAILED,
  Events.GATEWAY_STATE, Events.ALERT, Events.EVENTS_DROPPED, Events.IDENTITY_READ]) {
  tiepdon.on(name, (d) => log(name, d));
}
tiepdon.on(Events.CARD_PRESENTED, (d) => renderResult({ checkId: d.checkId }));
tiepdon.on(Events.IDENTITY_READ, (d) => renderResult(d));
tiepdon.on(Events.ELIGIBILITY_RESULT, (d) => { log(Events.ELIGIBILITY_RESULT, d); renderResult(d); });
tiepdon.on(Events.ELIGIBILITY_UPDATED, (d) => { log(Events.ELIGIBILITY_UPDATED, d); renderResult(d); });
tiepdon.on(Events.GATEWAY_STATE, () => refreshStatus());
tiepdon.on(Events.DEVICE_CHANGED, () => refreshStatus());
tiepdon.on(Events.EVENTS_DROPPED, () => tiepdon.currentIdentity().then((r) => r && renderResult(r)).catch(() => {}));

$("pair-btn").addEventListener("click", async () => {
  const scopes = ["eligibility", "identity", "photo"].filter((s) => $("scope-" + s).checked);
  $("pair-msg").textContent = "Waiting for approval in the tiepdon window…";
  try {
    await tiepdon.pair({
      name: $("pair-name").value,
      scopes,
      onCode: (c) => {
        $("pair-code").textContent = c.code;
        $("pair-code-box").hidden = false;
      },
    });
    $("pair-msg").textContent = "Paired.";
    $("pair-code-box").hidden = true;
    showConn();
    refreshStatus();
  } catch (e) {
    $("pair-msg").textContent = e instanceof TiepdonError ? e.message + " [" + e.reason + "]" : String(e);
    $("pair-code-box").hidden = true;
  }
});

$("forget-btn").addEventListener("click", () => {
  tiepdon.forget();
  $("pair-msg").textContent = "Token forgotten on this page; reconnecting unpaired.";
  tiepdon.close();
  tiepdon.connect().catch(() => {});
});

$("check-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const identity = {};
  if ($("f-cid").value.trim()) identity.citizenId = $("f-cid").value.trim();
  if ($("f-card").value.trim()) identity.cardNumber = $("f-card").value.trim().toUpperCase();
  if ($("f-name").value.trim()) identity.name = $("f-name").value.trim();
  if ($("f-dob").value.trim()) identity.birthDate = $("f-dob").value.trim();
  $("check-msg").textContent = "Checking…";
  try {
    const r = await tiepdon.check(identity);
    $("check-msg").textContent = r.pending ? "Waiting for the gateway; the answer will appear above." : "Done (" + r.checkId + ").";
    if (r.result) renderResult(r.result);
  } catch (e) {
    $("check-msg").textContent = e instanceof TiepdonError ? e.message + " [" + e.reason + "]" : String(e);
  }
});

showConn();
tiepdon.connect().catch((e) => log("error", { state: e.message }));
