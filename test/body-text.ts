import { identityBody, piecesText, type BodyPart, type TextPart } from "../src/exposition/gzip-body.js";

/** Text parts as a client reads them: kept pieces inflated, as the writer does. */
export const textBytes = (text: Iterable<TextPart>): Buffer =>
  Buffer.concat([...text].map((part) => (Buffer.isBuffer(part) ? part : piecesText([part]))));

/** A body's identity text, as a client reads it. */
export const bodyBytes = (parts: readonly BodyPart[]): Buffer => textBytes(identityBody(parts));
