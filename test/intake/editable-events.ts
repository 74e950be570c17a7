import { fixture } from '../support/fixtures.js';

/*
 * Fixtures as tests reshape them: a fresh parsed copy, typed just enough to
 * edit the fields a test names (everything else stays `unknown`).
 */

type Fields = Record<string, unknown>;

export interface AsffRecord extends Fields {
  ProductFields?: Record<string, string>;
  Resources: Fields[];
  Note?: { Text: string; UpdatedBy: string; UpdatedAt?: string };
}

export interface OcsfRecord extends Fields {
  metadata: Fields & { product: Fields };
  cloud: Fields;
  finding_info: Fields;
  resources: Fields[];
}

export interface GuardDutyDetail extends Fields {
  resource: Fields & { instanceDetails: Fields & { networkInterfaces: Array<Fields & { securityGroups: Fields[] }> } };
  service: Fields & { additionalInfo: Fields | null };
}

export interface EventOf<Detail> extends Fields {
  region: string;
  resources: string[];
  detail: Detail;
}

/** The first element of a list, or a failure naming it. */
export function first<T>(items: readonly T[], what: string): T {
  const [item] = items;
  if (item === undefined) throw new Error(`${what} is empty`);
  return item;
}

/** An ASFF fixture and its first finding, to edit. */
export function asffFixture(name: string): { event: EventOf<{ findings: AsffRecord[] }>; record: AsffRecord } {
  const event = fixture<EventOf<{ findings: AsffRecord[] }>>(name);
  return { event, record: first(event.detail.findings, `${name} detail.findings`) };
}

/** An OCSF fixture and its first finding, to edit. */
export function ocsfFixture(name: string): { event: EventOf<{ findings: OcsfRecord[] }>; record: OcsfRecord } {
  const event = fixture<EventOf<{ findings: OcsfRecord[] }>>(name);
  return { event, record: first(event.detail.findings, `${name} detail.findings`) };
}

/** A native GuardDuty fixture and its `detail`, to edit. */
export function guardDutyFixture(name: string): { event: EventOf<GuardDutyDetail>; detail: GuardDutyDetail } {
  const event = fixture<EventOf<GuardDutyDetail>>(name);
  return { event, detail: event.detail };
}
