// Package hisapi is tiepdon's local API for the hospital information system
// (HIS): JSON-RPC 2.0 over a WebSocket on the loopback interface
// (ws://127.0.0.1:8733/v1/ws), with HTTP endpoints beside it: /healthz,
// /metrics (Prometheus), /v1/client.js (an ES module client) and /demo (a
// demo HIS page).
//
// The HIS is usually a web app in Chrome or Edge, so the API is built to be
// safe to expose to a browser:
//
//   - it listens on loopback only unless configured otherwise;
//   - the Host header must be a loopback name (DNS-rebinding guard);
//   - a browser's Origin must be in an exact allow-list;
//   - every session starts with session.hello within 5 s, carrying a token
//     that staff approved at the reception window (pairing.request) or that
//     IT minted with "tiepdon pairing add";
//   - tokens are stored hashed, bound to their origin, revocable, and carry
//     scopes (eligibility, identity, photo, history): the chip photo only reaches
//     clients with the photo scope;
//   - message size, message rate, clients per origin and idle time are
//     limited, and a client that falls behind loses events (and is told,
//     with events.dropped) rather than slowing anyone else.
//
// The protocol is documented for HIS developers in docs/his-api.md. The
// agent starts a Server with New and Run; it reaches the agent through the
// Backend interface and the event bus.
//
// JSON-RPC layer: a small one of our own on gorilla/websocket rather than
// sourcegraph/jsonrpc2. That library closes the connection on a malformed
// message instead of answering -32700, writes notifications synchronously
// under its send lock with no write deadline (one slow client would stall
// its fan-out goroutine), and leaves no place for per-message rate limits or
// WebSocket close codes. Decoding is one function, decodeRequest, fuzzed by
// FuzzDecodeRequest.
package hisapi
