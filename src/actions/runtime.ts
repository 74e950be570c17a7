import type { AwsClientFactory, MemberClients, MemberTarget } from '../aws/index.js';
import type { ManifestSigner } from '../evidence/index.js';
import type { Finding, Resource } from '../intake/index.js';

/** Riposte's own account: evidence storage, Security Hub, SNS. */
export interface HostingServices {
  /** Clients acting as Riposte itself (`factory.create(S3Client)`). */
  readonly factory: AwsClientFactory;
  /** S3 bucket that receives evidence objects (in the hosting or a forensics account): the hosting Region's, unless `evidenceBuckets` names another there. */
  readonly evidenceBucket?: string;
  /**
   * Evidence buckets by Region (`RIPOSTE_EVIDENCE_BUCKETS`): evidence about
   * a resource goes to its own Region's bucket, never another's.
   */
  readonly evidenceBuckets?: Readonly<Record<string, string>>;
  /** Signs each run's evidence manifest (`RIPOSTE_EVIDENCE_SIGNING_KEY`); absent: manifests are stored unsigned. */
  readonly evidenceSigner?: ManifestSigner;
  /** The forensics account (`RIPOSTE_FORENSICS_ACCOUNT`): where `shareWithAccount: forensics` shares evidence snapshots. */
  readonly forensicsAccount?: string;
  /** SNS topic for notifications. */
  readonly topicArn?: string;
}

/** Everything an action needs to act: clients in the member account, and what it acts on. */
export interface ActionContext {
  readonly clients: MemberClients;
  readonly hosting: HostingServices;
  /** The member account, region and partition, and the run's correlation id. */
  readonly target: MemberTarget;
  readonly finding: Finding;
  /**
   * The resource the step acts on (for account-level actions, the account).
   * In a run it is the step's target as the pipeline resolved it, live
   * (`targetResource`): ids, interfaces and the profile's role come from
   * AWS, never from the finding. An action identifies what it changes only
   * through it.
   */
  readonly resource: Resource;
  readonly runId: string;
  /**
   * The runs this one retries (a delivery after a failed or abandoned
   * attempt at the same work), newest first: what they made is this run's
   * too. An action that finds its work by run id (evidence snapshots, the
   * evidence captured) looks under these as well, so a change the killed
   * attempt made is not made again.
   */
  readonly earlierRunIds?: readonly string[];
  /** The playbook the step belongs to, for notes and notifications. */
  readonly playbookId?: string;
  /** Outcomes of the steps before this one in the same run (what a notification reports). */
  readonly previousOutcomes?: readonly ActionOutcome[];
  /**
   * Where this step stands among its playbook's steps, for an action whose
   * work depends on what the others will have done by the time it runs
   * (a collection from inside an instance the playbook isolates). Absent
   * outside a playbook run.
   */
  readonly order?: StepOrder;
}

/** Another step of the same playbook, as the compiler validated it (defaults applied). */
export interface NeighbourStep {
  readonly action: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** The playbook's other steps as they stand to one step. */
export interface StepOrder {
  /** Steps of earlier groups: ended before this one starts. */
  readonly before: readonly NeighbourStep[];
  /** Steps of this step's own group (`concurrent`): running beside it. */
  readonly beside: readonly NeighbourStep[];
  /** Steps of later groups: start once this one has ended. */
  readonly after: readonly NeighbourStep[];
}

/** The order around step `index` of `steps`: a step marked `concurrent` joins the group of the step before it. */
export function stepOrderOf(steps: readonly (NeighbourStep & { readonly concurrent: boolean })[], index: number): StepOrder {
  let start = index;
  while (start > 0 && steps[start]?.concurrent === true) start -= 1;
  let end = index + 1;
  while (end < steps.length && steps[end]?.concurrent === true) end += 1;
  const view = ({ action, params }: NeighbourStep): NeighbourStep => ({ action, params });
  return {
    before: steps.slice(0, start).map(view),
    beside: steps.slice(start, end).flatMap((step, at) => (start + at === index ? [] : [view(step)])),
    after: steps.slice(end).map(view),
  };
}

/** One field an action would change, from what to what. */
export interface PlannedChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** What `plan()` read and would do — what a dry run prints. Reads only. */
export interface ActionPlan {
  readonly action: string;
  readonly resource: string;
  /** Already as the action would leave it: running it would change nothing. */
  readonly compliant: boolean;
  readonly summary: string;
  readonly changes: readonly PlannedChange[];
}

/** What `run()` did, and what it replaced (kept in the run record for rollback). */
export interface ActionOutcome<Undo = unknown> {
  readonly action: string;
  readonly resource: string;
  readonly changed: boolean;
  readonly summary: string;
  readonly changes: readonly PlannedChange[];
  /** What the change replaced; `rollback()` takes it back. Absent when nothing changed. */
  readonly undo?: Undo;
  /**
   * Set when the action started something that is still running (an SSM
   * command, snapshots still pending) and did not wait for it: the run is
   * saved, and the step is run again later with the same run id, which
   * picks up where it left off.
   */
  readonly inProgress?: { readonly detail: string; readonly checkAfterSeconds: number };
}

/** What `verify()` read back: does the resource comply now? */
export interface Verification {
  readonly compliant: boolean;
  readonly summary: string;
}

/** The behaviour of an action: reads, changes idempotently, verifies, and (where possible) undoes. */
export interface ActionBehaviour<Params, Undo> {
  plan(context: ActionContext, params: Params): Promise<ActionPlan>;
  /** Reads current state first: a second run changes nothing and says so. */
  run(context: ActionContext, params: Params): Promise<ActionOutcome<Undo>>;
  verify(context: ActionContext, params: Params): Promise<Verification>;
  rollback?(context: ActionContext, undo: Undo): Promise<ActionOutcome<never>>;
  /**
   * The undo of changes an earlier attempt at the same work planned
   * (`planned`: from the state its plan read, before anything changed) and
   * then made without recording them (it was killed between the change and
   * its record). A retry that finds those changes made keeps this undo, so
   * rolling the work back still restores them. `undefined` when `planned`
   * does not say enough.
   */
  undoOfPlanned?(context: ActionContext, planned: readonly PlannedChange[]): Undo | undefined;
  /**
   * Reads the plan will make that do not depend on the step's target (a
   * listing of the account's target groups), started beside the run's
   * target resolution so that the plan finds them answered (the run shares
   * each read until its first change: src/aws/run-read-memo.ts) and a read
   * that depends on them goes in the plan's own round trip. Same parameters
   * as the plan's reads, or nothing is shared; what it reads is never used
   * otherwise, and a failure is left for the plan to meet.
   */
  prefetch?(context: PrefetchContext): Promise<void>;
}

/** What a prefetch may use: the member account's clients, before the step's target is known. */
export type PrefetchContext = Pick<ActionContext, 'clients' | 'target'>;
