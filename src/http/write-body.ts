import type { ServerResponse } from "node:http";
import { piecesText, type DeflatePiece, type TextPart } from "../exposition/gzip-body.js";

/** Text inflated at once, then handed to the socket before the writer waits for it: sixteen 64 KiB pieces, so that calls and waits are few. */
const WINDOW_BYTES = 1024 * 1024;

/** Resolves true when the socket takes more, false when the client went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (more: boolean) => (): void => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(more);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/**
 * Hands the memory of text inflated for one answer back as soon as the
 * socket has sent it. Left to the garbage collector, which counts it only
 * as external memory, an identity scrape's whole settled text (tens of MiB
 * at 10,000 calculations) would be resident before the next full
 * collection. Only memory larger than Node's buffer pool: a smaller buffer
 * may be a slice of the pool, shared with others.
 */
function release(text: Buffer): void {
  if (text.byteOffset === 0 && text.buffer.byteLength > Buffer.poolSize && text.buffer instanceof ArrayBuffer) text.buffer.transfer(0);
}

/**
 * Writes a body's parts in order and ends the answer. Writes are corked,
 * so that they leave in few writev calls. Bytes already in memory are
 * handed over at once; kept pieces are inflated a window at a time as they
 * are reached, and the writer waits for the socket before it inflates the
 * next window: a body of pieces is held a window at a time, not whole. A
 * client that goes away stops the writing.
 */
export async function writeBody(res: ServerResponse, body: Iterable<TextPart>): Promise<void> {
  let run: DeflatePiece[] = [];
  let runBytes = 0;
  /** Inflates and writes the pieces gathered; false when the client went away. */
  const flush = async (): Promise<boolean> => {
    if (run.length === 0) return true;
    const text = piecesText(run);
    run = [];
    runBytes = 0;
    if (res.write(text, () => release(text))) return true;
    res.uncork();
    const more = await drained(res);
    res.cork();
    return more;
  };
  res.cork();
  for (const part of body) {
    if (Buffer.isBuffer(part)) {
      if (!(await flush())) return;
      res.write(part);
      continue;
    }
    run.push(part);
    runBytes += part.length;
    if (runBytes >= WINDOW_BYTES && !(await flush())) return;
  }
  if (!(await flush())) return;
  res.uncork();
  res.end();
}
