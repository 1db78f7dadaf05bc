import type { AthenaApi } from "./client.js";

/**
 * An AthenaApi whose target a config reload can replace (new region,
 * endpoint or limits) while the cache and discovery that hold it carry on.
 */
export class SwappableAthenaApi implements AthenaApi {
  constructor(public target: AthenaApi) {}

  getCalculation: AthenaApi["getCalculation"] = (id, signal) => this.target.getCalculation(id, signal);
  getSession: AthenaApi["getSession"] = (id, signal) => this.target.getSession(id, signal);
  getWorkGroup: AthenaApi["getWorkGroup"] = (name, signal) => this.target.getWorkGroup(name, signal);
  listWorkGroups: AthenaApi["listWorkGroups"] = (signal) => this.target.listWorkGroups(signal);
  listWorkGroupTags: AthenaApi["listWorkGroupTags"] = (name, signal) => this.target.listWorkGroupTags(name, signal);
  listSessions: AthenaApi["listSessions"] = (workgroup, signal, options) => this.target.listSessions(workgroup, signal, options);
  listCalculations: AthenaApi["listCalculations"] = (sessionId, signal, stopAt) => this.target.listCalculations(sessionId, signal, stopAt);
  listExecutors: AthenaApi["listExecutors"] = (sessionId, signal, stopAt) => this.target.listExecutors(sessionId, signal, stopAt);
}
