import type { PlaybookMatch } from '../engine/index.js';
import type { Finding } from '../intake/index.js';
import { neutralise } from '../neutralise.js';
import { describeApiMatch, type CompiledPlaybook } from '../playbooks/index.js';
import { OnDemandAmbiguousError, OnDemandRefusedError, type OnDemandRequestContext } from './errors.js';

/** Which of a finding's matches run, or why none may. */
export type OnDemandSelection = { readonly runs: readonly PlaybookMatch[] } | { readonly refused: OnDemandAmbiguousError | OnDemandRefusedError };

/** What a request names, for a refusal: validated by intake, and neutralised all the same (it reaches terminals and logs). */
function requestOf(finding: Finding): OnDemandRequestContext {
  const instance = finding.resources[0];
  return {
    account: neutralise(finding.account),
    region: neutralise(finding.region),
    resource: neutralise(instance?.arn ?? instance?.id ?? ''),
    instanceId: neutralise(instance?.instanceId ?? instance?.id ?? ''),
  };
}

/** One API playbook and what it takes: `team-a-respond (account in [111111111111])`. */
const takes = (compiled: CompiledPlaybook): string => `${compiled.playbook.id} (${describeApiMatch(compiled.apiMatch)}${compiled.playbook.triggers.apiDefault ? '; default' : ''})`;

function refusedFor(finding: Finding, named: string | undefined, apiPlaybooks: readonly CompiledPlaybook[]): OnDemandRefusedError {
  const request = requestOf(finding);
  const ids = apiPlaybooks.map((compiled) => compiled.playbook.id);
  const subject = `the request for ${request.instanceId} in account ${request.account}, ${request.region}`;
  if (apiPlaybooks.length === 0) return new OnDemandRefusedError(request, `no playbook of this library takes on-demand requests (triggers.api): ${subject} cannot run`, ids, named);
  const listing = `playbooks that take on-demand requests: ${apiPlaybooks.map(takes).join('; ')}`;
  if (named === undefined) return new OnDemandRefusedError(request, `no playbook's match takes ${subject}; ${listing}`, ids);
  const shownName = neutralise(named);
  const chosen = apiPlaybooks.find((compiled) => compiled.playbook.id === named);
  const message =
    chosen === undefined
      ? `playbook ${shownName} does not take on-demand requests (triggers.api); ${listing}`
      : `playbook ${shownName} does not take ${subject}: its match requires ${describeApiMatch(chosen.apiMatch)}; ${listing}`;
  return new OnDemandRefusedError(request, message, ids, shownName);
}

/**
 * Which playbooks an on-demand request runs, from the playbooks whose rules
 * matched it (for a request, a rule matches when the playbook takes
 * on-demand requests, is the one named or none is named, and its match
 * accepts the request's account, region and instance):
 *
 * - a playbook named: that one, or a refusal saying what its match requires;
 * - none named: the one whose match accepts it; of several, the one marked
 *   `triggers.api: { default: true }`; several and not exactly one default
 *   among them, or none at all: a refusal naming the candidates.
 *
 * Any other finding runs every match. The pipeline asks this for every
 * finding, so the API, the CLI and any other caller get the same answer.
 */
export function selectRuns(finding: Finding, matches: readonly PlaybookMatch[], playbooks: readonly CompiledPlaybook[]): OnDemandSelection {
  if (finding.trigger.kind !== 'api') return { runs: matches };
  const named = finding.trigger.playbook;
  const accepted = named === undefined ? matches : matches.filter((match) => match.playbook.playbook.id === named);
  if (accepted.length === 0) {
    return {
      refused: refusedFor(
        finding,
        named,
        playbooks.filter((compiled) => compiled.playbook.triggers.api),
      ),
    };
  }
  if (accepted.length === 1) return { runs: accepted };
  const defaults = accepted.filter((match) => match.playbook.playbook.triggers.apiDefault);
  if (defaults.length === 1) return { runs: defaults };
  const ids = (list: readonly PlaybookMatch[]): string[] => list.map((match) => match.playbook.playbook.id);
  return { refused: new OnDemandAmbiguousError(requestOf(finding), ids(accepted), ids(defaults)) };
}
