/**
 * SOAP: a request is judged by its action, from the SOAP 1.1 `SOAPAction` header (SOAP 1.1 §6.1.1) or
 * the `action` parameter of `application/soap+xml` (SOAP 1.2 Part 2 §6.5, the SOAP Action feature;
 * RFC 3902 §1). The action is part of the key: a SOAP 1.1 server may dispatch on the header alone,
 * whatever the body says. Faults come back as 500 (SOAP 1.1 §6.2; SOAP 1.2 Part 2 §7.5: 400 for Sender
 * faults, else 500), which are never stored; a Fault sent with any other status is not stored either.
 */
import { concat } from "../options.ts";
import { type BodyClass, encoder, judgeName, mediaType, type NameRules, utf8 } from "./rules.ts";

/** SOAP settings after validation. */
export interface ResolvedSoap {
  paths: RegExp[];
  actions: NameRules;
}

/** RFC 9110 §5.6.6: `action="..."` or `action=token` among the Content-Type parameters. */
const ACTION_PARAMETER = /;\s*action\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/i;
/** A SOAP Fault element (SOAP 1.1 §4.4, SOAP 1.2 Part 1 §5.4), in any namespace prefix. */
const FAULT = /<(?:[\w.-]+:)?Fault[\s/>]/;

/** The class of a SOAP request, or undefined if it carries neither a SOAPAction nor a SOAP 1.2 type. */
export function classifySoap(headers: Headers, bytes: Uint8Array, rules: ResolvedSoap): BodyClass | undefined {
  const contentType = headers.get("content-type");
  const header = headers.get("soapaction");
  let action: string | undefined;
  if (mediaType(contentType) === "application/soap+xml") {
    const match = ACTION_PARAMETER.exec(contentType ?? "");
    action = match ? (match[1]?.replace(/\\(.)/g, "$1") ?? match[2]) : undefined;
  } else if (header !== null) {
    // SOAP 1.1 §6.1.1: a quoted URI; `""` means "the request URI", which says nothing of the operation.
    action = header.trim().replace(/^"(.*)"$/, "$1");
  } else return undefined;
  if (!action) return { protocol: "soap", bypass: "soap-action-unknown" };
  // The operation is the last segment of the action URI: `http://tempuri.org/IUsers/CreateUser`,
  // `urn:shop#DeleteItem`. Patterns may name either it or the whole action.
  const operation = action.split(/[/#:]/).filter(Boolean).pop() ?? action;
  const denied = judgeName("soap", [operation, action], rules.actions);
  if (denied) return { protocol: "soap", bypass: denied };
  return {
    protocol: "soap",
    keyBody: concat([encoder.encode(`${JSON.stringify(action)}\n`), bytes]),
    rejectAnswer: async (_response, body) => {
      const bytes = await body;
      if (!bytes) return undefined; // past the response cap: not stored anyway
      const text = utf8(bytes);
      return text === undefined ? "soap-unreadable" : FAULT.test(text) ? "soap-fault" : undefined;
    },
  };
}
