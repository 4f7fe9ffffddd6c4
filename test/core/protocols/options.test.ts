/**
 * Protocol settings: validated when the protocol is made (factory time), with errors that name the
 * setting; the engine takes only protocols from postcache/protocols.
 */
import { describe, expect, test } from "bun:test";
import { createPostcache, PostcacheOptionError, type PostcacheOptions, resolveOptions } from "../../../core/index.ts";
import { graphql, jsonRpc, soap } from "../../../core/protocols/index.ts";

describe("protocol settings: validated when the protocol is made, naming the setting", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => graphql("yes" as never), /option "graphql" settings must be an object \(got "yes"\)/],
    [() => graphql(["/graphql"] as never), /option "graphql" settings must be an object/],
    [() => graphql({ path: ["/gql"] } as never), /option "graphql.path" is not a postcache option/],
    [() => graphql({ paths: ["graphql"] }), /option "graphql.paths" must hold path globs starting with "\/"/],
    [() => graphql({ storeErrors: "no" as never }), /option "graphql.storeErrors" must be true or false/],
    [
      () => graphql({ allowOperations: "Q" as never }),
      /option "graphql.allowOperations" must be an array of non-empty strings or RegExps/,
    ],
    [() => graphql({ denyOperations: [""] }), /option "graphql.denyOperations"/],
    [() => jsonRpc(1 as never), /option "jsonRpc" settings must be an object/],
    [() => jsonRpc({ allowMethods: [7 as never] }), /option "jsonRpc.allowMethods"/],
    [() => jsonRpc({ mutationVerbs: [""] }), /option "jsonRpc.mutationVerbs" must be an array of non-empty strings or false/],
    [() => jsonRpc({ mutationVerbs: true as never }), /option "jsonRpc.mutationVerbs"/],
    [() => soap({ denyActions: [null as never] }), /option "soap.denyActions"/],
    [() => soap({ paths: [42 as never] }), /option "soap.paths"/],
    [() => soap({ actions: [] } as never), /option "soap.actions" is not a postcache option/],
    [() => createPostcache({ protocols: [{ graphql: true }] as never }), /option "protocols" must be an array of protocols/],
    [() => createPostcache({ protocols: graphql() as never }), /option "protocols" must be an array of protocols/],
    [() => createPostcache({ graphql: true } as unknown as PostcacheOptions), /option "graphql" is not a postcache option/],
  ];
  for (const [make, message] of bad) {
    test(String(message), () => {
      expect(make).toThrow(message);
      expect(make).toThrow(PostcacheOptionError);
    });
  }

  test("none by default", () => {
    expect(resolveOptions().protocols).toEqual([]);
  });

  test("defaults: GraphQL at /graphql; JSON-RPC and SOAP everywhere, judged by the engine's mutation verbs", async () => {
    const g = graphql();
    expect(g.paths.some((re) => re.test("/graphql"))).toBe(true);
    expect(g.paths.some((re) => re.test("/graphql?x=1"))).toBe(true);
    expect(g.paths.some((re) => re.test("/api/graphql"))).toBe(false);
    expect(g.settings.storeErrors).toBe(false);
    const j = jsonRpc();
    expect(j.paths).toEqual([]);
    expect(j.settings.methods.verbs).toBeUndefined();
    const context = { sha256: () => new Uint8Array(32), mutationVerbs: new Set(["zap"]) };
    const call = (method: string) =>
      j.classify(
        new URL("https://x.test/rpc"),
        new Headers({ "content-type": "application/json" }),
        new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", method, id: 1 })),
        context,
      );
    expect((await call("zapAll"))?.bypass).toBe("jsonrpc-mutation");
    expect((await call("deleteAll"))?.bypass).toBeUndefined();
    expect([...(soap({ mutationVerbs: ["approve"] }).settings.actions.verbs ?? [])]).toEqual(["approve"]);
  });

  test("name patterns: `*` is the only wildcard, everything else is literal", () => {
    const [glob, literal] = jsonRpc({ denyMethods: ["eth_get*", "a.b"] }).settings.methods.deny;
    expect(glob.test("eth_getBalance")).toBe(true);
    expect(glob.test("xeth_getBalance")).toBe(false);
    expect(literal.test("a.b")).toBe(true);
    expect(literal.test("axb")).toBe(false);
  });
});
