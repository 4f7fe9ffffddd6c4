/**
 * SOAP through the engine: requests are judged by their action (SOAP 1.1 `SOAPAction`, SOAP 1.2 the
 * `action` parameter of `application/soap+xml`), the action is part of the key, and faults are never
 * stored.
 */
import { describe, expect, test } from "bun:test";
import { type SoapOptions, soap } from "../../../core/protocols/index.ts";
import { harness, origin, post, status, useOrigin } from "../harness.ts";

useOrigin();

const CACHEABLE = { "cache-control": "max-age=60" };
const ENVELOPE =
  '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Get xmlns:m="urn:x"><m:id>1</m:id></m:Get></soap:Body></soap:Envelope>';

/** A SOAP origin at /soap answering with the action it saw and a call number. */
function soapOrigin(respond?: (call: number) => Response) {
  return origin("/soap", (request, call) => {
    if (respond) return respond(call);
    const action = request.headers.get("soapaction") ?? request.headers.get("content-type");
    return new Response(`<r call="${call}">${action}</r>`, { headers: { "content-type": "text/xml", ...CACHEABLE } });
  });
}

const soap11 = (action: string | null, body = ENVELOPE) =>
  post("/soap", body, { "content-type": "text/xml; charset=utf-8", ...(action === null ? {} : { soapaction: action }) });
const soap12 = (parameters: string, body = ENVELOPE) =>
  post("/soap", body, { "content-type": `application/soap+xml; charset=utf-8${parameters}` });

function setup(settings: SoapOptions = {}) {
  return harness({ protocols: [soap(settings)] });
}

async function statusOf(h: ReturnType<typeof setup>, request: Request) {
  const response = await h.send(request);
  await response.arrayBuffer();
  await h.settle();
  return status(response);
}

describe("soap: actions decide", () => {
  test("SOAP 1.1: a reading action is cached, a mutating one bypasses", async () => {
    const h = setup();
    const o = soapOrigin();
    expect(await statusOf(h, soap11('"http://tempuri.org/IUsers/GetUser"'))).toMatch(/stored/);
    expect(await statusOf(h, soap11('"http://tempuri.org/IUsers/GetUser"'))).toMatch(/hit/);
    expect(await statusOf(h, soap11('"http://tempuri.org/IUsers/CreateUser"'))).toBe(
      "postcache; fwd=bypass; detail=soap-mutation",
    );
    expect(await statusOf(h, soap11("urn:shop#DeleteItem"))).toBe("postcache; fwd=bypass; detail=soap-mutation");
    expect(o.calls).toBe(3);
  });

  test("the action is part of the key: the same envelope under another action is another request", async () => {
    const h = setup();
    const o = soapOrigin();
    expect(await statusOf(h, soap11('"urn:shop#GetItem"'))).toMatch(/stored/);
    expect(await statusOf(h, soap11('"urn:shop#GetPrice"'))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("SOAP 1.2: the action parameter of application/soap+xml, quoted or not", async () => {
    const h = setup();
    const o = soapOrigin();
    expect(await statusOf(h, soap12('; action="urn:shop#ListItems"'))).toMatch(/stored/);
    expect(await statusOf(h, soap12('; action="urn:shop#ListItems"'))).toMatch(/hit/);
    expect(await statusOf(h, soap12("; action=urn:shop:UpdatePrice"))).toBe("postcache; fwd=bypass; detail=soap-mutation");
    expect(o.calls).toBe(2);
  });

  test("an empty or absent action says nothing of the operation: bypass", async () => {
    const h = setup();
    soapOrigin();
    expect(await statusOf(h, soap11('""'))).toBe("postcache; fwd=bypass; detail=soap-action-unknown");
    expect(await statusOf(h, soap12(""))).toBe("postcache; fwd=bypass; detail=soap-action-unknown");
  });

  test("XML without SOAPAction or a SOAP 1.2 type is not SOAP to postcache: cached as any body", async () => {
    const h = setup();
    soapOrigin();
    expect(await statusOf(h, soap11(null))).toBe("postcache; fwd=uri-miss; fwd-status=200; stored");
  });
});

describe("soap: action rules", () => {
  test("denyActions by last segment or whole action", async () => {
    const h = setup({ denyActions: ["GetSecret", "urn:internal#*"] });
    soapOrigin();
    expect(await statusOf(h, soap11('"http://tempuri.org/IVault/GetSecret"'))).toBe("postcache; fwd=bypass; detail=soap-denied");
    expect(await statusOf(h, soap11('"urn:internal#GetStats"'))).toBe("postcache; fwd=bypass; detail=soap-denied");
    expect(await statusOf(h, soap11('"urn:public#GetStats"'))).toMatch(/stored/);
  });

  test("allowActions: exactly those are cached, the verb rule not consulted", async () => {
    const h = setup({ allowActions: ["http://tempuri.org/IReports/*", "ListItems"] });
    soapOrigin();
    expect(await statusOf(h, soap11('"http://tempuri.org/IReports/GenerateReport"'))).toMatch(/stored/);
    expect(await statusOf(h, soap11('"urn:shop#ListItems"'))).toMatch(/stored/);
    expect(await statusOf(h, soap11('"urn:shop#GetItem"'))).toBe("postcache; fwd=bypass; detail=soap-not-allowed");
  });

  test("mutationVerbs of its own", async () => {
    const h = setup({ mutationVerbs: ["approve"] });
    soapOrigin();
    expect(await statusOf(h, soap11('"urn:hr#ApproveLeave"'))).toBe("postcache; fwd=bypass; detail=soap-mutation");
    expect(await statusOf(h, soap11('"urn:hr#CreateThing"'))).toMatch(/stored/);
  });
});

describe("soap: faults are never stored", () => {
  test("a SOAP 1.1 fault comes as 500, which is never stored", async () => {
    const h = setup();
    const o = soapOrigin(
      () => new Response("<soap:Fault><faultcode>soap:Server</faultcode></soap:Fault>", { status: 500, headers: CACHEABLE }),
    );
    expect(await statusOf(h, soap11('"urn:shop#GetItem"'))).toBe("postcache; fwd=uri-miss; fwd-status=500; detail=status");
    expect(await statusOf(h, soap11('"urn:shop#GetItem"'))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("a fault sent with 200 is not stored either", async () => {
    const h = setup();
    const o = soapOrigin(
      () =>
        new Response(
          '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault/></env:Body></env:Envelope>',
          {
            headers: { "content-type": "application/soap+xml", ...CACHEABLE },
          },
        ),
    );
    expect(await statusOf(h, soap12('; action="urn:shop#GetItem"'))).toBe(
      "postcache; fwd=uri-miss; fwd-status=200; detail=soap-fault",
    );
    expect(await statusOf(h, soap12('; action="urn:shop#GetItem"'))).toMatch(/soap-fault/);
    expect(o.calls).toBe(2);
  });
});
