// Off-the-shelf JSON-RPC 2.0 clients, unmodified, against the tiepdon HIS
// API: each says hello with a token, makes a single call, gets a -32602
// as its library's error, and sends a batch holding a call, a notification
// and an invalid member (rpc-websockets has no batches: it sends a
// notification and receives one of the agent's instead). Run by
// TestOffTheShelfClients: node clients.mjs WS_URL TOKEN; prints one "ok
// <client>" line per client, or fails with the reason.
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { JSONRPCClient, JSONRPCServer, JSONRPCServerAndClient } from "json-rpc-2.0";
import jayson from "jayson/promise/index.js";
import { Client as RPCWebSocketsClient } from "rpc-websockets";

const [url, token] = process.argv.slice(2);
const hello = { token, client: { name: "off-the-shelf client" }, apiLevel: 1 };
const withTimeout = (p, what, ms = 10000) =>
  Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(what + ": no answer within " + ms + " ms")), ms))]);
const opened = (ws) => new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });

// The batch every client sends: a call, a notification, an invalid member.
function checkBatch(name, answers, callId) {
  assert.ok(Array.isArray(answers), name + ": a batch is answered with an array");
  assert.equal(answers.length, 2, name + ": one answer per call and per invalid member, none for the notification");
  const call = answers.find((a) => a.id === callId);
  assert.ok(call && call.result && call.result.apiLevel === 1, name + ": the call in the batch is answered: " + JSON.stringify(answers));
  const invalid = answers.find((a) => a.id === null);
  assert.ok(invalid && invalid.error && invalid.error.code === -32600, name + ": the invalid member gets -32600 with id null: " + JSON.stringify(answers));
}

async function jsonRpc20() {
  const ws = new WebSocket(url);
  await opened(ws);
  const rpc = new JSONRPCServerAndClient(new JSONRPCServer(), new JSONRPCClient((req) => ws.send(JSON.stringify(req))));
  let batchFrame;
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (Array.isArray(m)) batchFrame = m; // what the agent sent, beside what the library makes of it
    rpc.receiveAndSend(m);
  });
  const h = await withTimeout(rpc.request("session.hello", hello), "json-rpc-2.0 session.hello");
  assert.equal(h.paired, true, "json-rpc-2.0: paired");
  const info = await withTimeout(rpc.request("system.info"), "json-rpc-2.0 system.info");
  assert.equal(info.apiLevel, 1);
  await assert.rejects(withTimeout(rpc.request("receipt.get", { checkID: "x" }), "json-rpc-2.0 bad params"),
    (e) => e.code === -32602 && /checkID/.test(e.message + JSON.stringify(e.data)), "json-rpc-2.0: -32602 naming the field");
  const answers = await withTimeout(rpc.client.requestAdvanced([
    { jsonrpc: "2.0", id: 101, method: "system.info" },
    { jsonrpc: "2.0", method: "status" },
    { jsonrpc: "2.0", foo: "boo" },
  ]), "json-rpc-2.0 batch");
  // The library resolves the answers to its requests with ids (here one).
  assert.ok(answers.length === 1 && answers[0].id === 101 && answers[0].result.apiLevel === 1, "json-rpc-2.0: batch answers " + JSON.stringify(answers));
  checkBatch("json-rpc-2.0", batchFrame, 101);
  ws.close();
}

async function jaysonClient() {
  const client = jayson.Client.websocket({ url, timeout: 10000 });
  await opened(client.ws);
  const request = (method, params) => withTimeout(client.request(method, params), "jayson " + method);
  const h = await request("session.hello", hello);
  assert.equal(h.result.paired, true, "jayson: paired");
  const info = await request("system.info", {});
  assert.equal(info.result.apiLevel, 1);
  const bad = await request("receipt.get", { checkID: "x" });
  assert.equal(bad.error && bad.error.code, -32602, "jayson: -32602");
  const call = client.request("system.info", {}, 201, false);
  const answers = await withTimeout(client.request([call, client.request("status", {}, null, false), { jsonrpc: "2.0", foo: "boo" }]), "jayson batch");
  checkBatch("jayson", answers, 201);
  client.ws.close();
}

async function rpcWebsockets() {
  const client = new RPCWebSocketsClient(url, { reconnect: false });
  await new Promise((resolve, reject) => { client.once("open", resolve); client.once("error", reject); });
  const h = await withTimeout(client.call("session.hello", hello), "rpc-websockets session.hello");
  assert.equal(h.paired, true, "rpc-websockets: paired");
  const info = await withTimeout(client.call("system.info"), "rpc-websockets system.info");
  assert.equal(info.apiLevel, 1);
  await assert.rejects(withTimeout(client.call("receipt.get", { checkID: "x" }), "rpc-websockets bad params"),
    (e) => e.code === -32602, "rpc-websockets: -32602");
  // A notification gets no answer: the next call's answer is the next one.
  await client.notify("status");
  // The agent's own notifications arrive as events named by their method.
  const result = new Promise((resolve) => client.once("eligibility.result", resolve));
  const check = await withTimeout(client.call("eligibility.check", { identity: { citizenId: "079203001234", name: "Trần Thị Bình", birthDate: "02/03/2003" } }), "rpc-websockets eligibility.check");
  const note = await withTimeout(result, "rpc-websockets eligibility.result");
  assert.equal(note.checkId, check.checkId, "rpc-websockets: the notification is the check's");
  client.close();
}

for (const [name, run] of [["json-rpc-2.0", jsonRpc20], ["jayson", jaysonClient], ["rpc-websockets", rpcWebsockets]]) {
  await run();
  console.log("ok " + name);
}
process.exit(0);
