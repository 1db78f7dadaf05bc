import type { AthenaApiFactory } from "./client.js";

/**
 * The APIs `factory` builds, with every call also aborted when `stop` aborts:
 * an exporter that is stopping leaves no call to Athena waiting on an answer
 * it will never use (a slow Athena would otherwise hold it until the call's timeout).
 */
export function stoppedBy(factory: AthenaApiFactory, stop: AbortSignal): AthenaApiFactory {
  return (aws, metrics) => {
    const api = factory(aws, metrics);
    const or = (signal: AbortSignal): AbortSignal => AbortSignal.any([signal, stop]);
    return {
      getCalculation: (id, signal) => api.getCalculation(id, or(signal)),
      getSession: (id, signal) => api.getSession(id, or(signal)),
      getWorkGroup: (name, signal) => api.getWorkGroup(name, or(signal)),
      listWorkGroups: (signal) => api.listWorkGroups(or(signal)),
      listWorkGroupTags: (name, signal) => api.listWorkGroupTags(name, or(signal)),
      listSessions: (workgroup, signal, state) => api.listSessions(workgroup, or(signal), state),
      listCalculations: (sessionId, signal) => api.listCalculations(sessionId, or(signal)),
    };
  };
}
