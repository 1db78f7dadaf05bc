import { setMaxListeners } from "node:events";
import { whileEither } from "../either-signal.js";
import type { AthenaApiFactory } from "./client.js";

/**
 * The APIs `factory` builds, with every call also aborted when `stop` aborts:
 * an exporter that is stopping leaves no call to Athena waiting on an answer
 * it will never use (a slow Athena would otherwise hold it until the call's timeout).
 */
export function stoppedBy(factory: AthenaApiFactory, stop: AbortSignal): AthenaApiFactory {
  // Every call in flight listens to it (aws.maxConcurrency of them and more): not the leak Node warns of past 10.
  setMaxListeners(0, stop);
  return (aws, metrics) => {
    const api = factory(aws, metrics);
    return {
      getCalculation: (id, signal) => whileEither(signal, stop, (s) => api.getCalculation(id, s)),
      getSession: (id, signal) => whileEither(signal, stop, (s) => api.getSession(id, s)),
      getWorkGroup: (name, signal) => whileEither(signal, stop, (s) => api.getWorkGroup(name, s)),
      listWorkGroups: (signal) => whileEither(signal, stop, (s) => api.listWorkGroups(s)),
      listWorkGroupTags: (name, signal) => whileEither(signal, stop, (s) => api.listWorkGroupTags(name, s)),
      listSessions: (workgroup, signal, options) => whileEither(signal, stop, (s) => api.listSessions(workgroup, s, options)),
      listCalculations: (sessionId, signal, stopAt) => whileEither(signal, stop, (s) => api.listCalculations(sessionId, s, stopAt)),
      listExecutors: (sessionId, signal, stopAt) => whileEither(signal, stop, (s) => api.listExecutors(sessionId, s, stopAt)),
    };
  };
}
