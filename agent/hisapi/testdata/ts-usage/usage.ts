// A HIS written in TypeScript against @tiepdon/his-client: TestClientTypes
// type-checks it with tsc --strict. The @ts-expect-error lines are mistakes
// the declarations must catch (tsc fails if one is not an error).
import { API_LEVEL, CloseCodes, ErrorCodes, Events, TiepdonClient, TiepdonError } from "@tiepdon/his-client";
import type { CheckResult, ConnectionState, SessionHelloResult, Verdict } from "@tiepdon/his-client";

const tiepdon = new TiepdonClient({ url: "ws://127.0.0.1:8733/v1/ws", name: "HIS Khoa Khám bệnh", version: "4.2", storage: null });
const level: 1 = API_LEVEL;
let last = { bootId: "", seq: 0 };

tiepdon.on(Events.ELIGIBILITY_RESULT, (r) => {
  const verdict: Verdict | undefined = r.eligibility?.verdict;
  const background: boolean | undefined = r.background;
  last.seq = Math.max(last.seq, r.seq);
  console.log(r.checkId, verdict, background, r.eligibility?.newCard?.firstCode);
});
tiepdon.on(Events.STATE, (s: ConnectionState) => {
  if (s.state === "closed" && s.closeCode === CloseCodes.TOKEN_REVOKED) console.log("re-pair");
});

export async function run(): Promise<void> {
  const hello: SessionHelloResult = await tiepdon.connect();
  if (!tiepdon.paired) await tiepdon.pair({ scopes: ["eligibility", "identity"], onCode: ({ code }) => console.log(code) });
  const since = await tiepdon.call("events.since", { bootId: last.bootId || hello.bootId, seq: last.seq });
  if (!since.complete) {
    const page = await tiepdon.call("receipts.list", { since: new Date(Date.now() - 3600e3).toISOString() });
    for (const r of page.results) console.log(r.cursor, r.kind, r.eligibility?.ageMs);
  }
  last = { bootId: since.bootId, seq: since.lastSeq };
  const { checkId, pending, result } = await tiepdon.check({ citizenId: "075134040503", name: "Lý Thị Nhung", birthDate: "19/09/1934" }, { announce: false });
  const answer: CheckResult | undefined = result;
  console.log(checkId, pending, answer?.receipt?.keyId, level);
  try {
    await tiepdon.receipt(checkId);
  } catch (e) {
    if (e instanceof TiepdonError && e.code === ErrorCodes.NOT_FOUND) console.log(e.reason, e.data.reason);
  }
  const info = await tiepdon.info();
  console.log(info.apiLevel, (await tiepdon.status()).gateway, await tiepdon.currentIdentity());

  // @ts-expect-error: no such method
  await tiepdon.call("eligibility.chek", {});
  // @ts-expect-error: parameter names are case-sensitive
  await tiepdon.call("receipt.get", { checkID: checkId });
  // @ts-expect-error: the verdict is in eligibility, not at the top of the event
  tiepdon.on(Events.ELIGIBILITY_RESULT, (r) => r.verdict);
  // @ts-expect-error: announce is a boolean
  await tiepdon.check({ citizenId: "075134040503" }, { announce: "no" });
  // @ts-expect-error: there is no such scope
  await tiepdon.pair({ scopes: ["everything"] });
  // @ts-expect-error: instants are strings
  await tiepdon.call("receipts.list", { since: new Date() });
}
